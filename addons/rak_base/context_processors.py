from rak_base.company import company as _company


def company(request):
    """``company``: the régie's legal name, address, phone and tax ids (rak.conf [company])."""
    return {"company": _company()}
