"""``field__const`` (rak_base.lookups): the constant written into the SQL, anything else refused."""

import pytest

from rak_billing.models import Bill


def test_const_writes_the_constant_into_the_statement():
    sql, params = Bill.objects.filter(customer_id=7, kind__const=Bill.Kind.CONSUMPTION).query.sql_with_params()
    assert """"rak_billing_bill"."kind" = 'CONSUMPTION'""" in sql
    assert "CONSUMPTION" not in params
    sql, _params = Bill.objects.exclude(kind__const="CUT_FEE").query.sql_with_params()
    assert """NOT ("rak_billing_bill"."kind" = 'CUT_FEE')""" in sql


@pytest.mark.parametrize("value", ["x' OR '1'='1", "CONSUMPTION;", "", "a b", "é"])
def test_const_refuses_anything_but_a_code_constant(value):
    with pytest.raises(ValueError, match="code constant"):
        str(Bill.objects.filter(kind__const=value).query)
