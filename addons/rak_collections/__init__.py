"""The collections desk (« recouvrement », issue 14): reminder plans and their steps, cut-off and
reconnection orders, payment plans (échéanciers), the agency counters' cash closing."""
