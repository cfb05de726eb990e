"""Back office: outage and works notices (issue 11)."""
