"""Back office: field intervention orders for the technical team (issue 11)."""
