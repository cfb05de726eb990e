"""Back office: the helpdesk (complaints queue and complaint page), « Contactez-nous » → complaint (issue 11)."""
