"""Team deployments and growing leaders: colleagues from the lead supporter's school, and
aspiring leaders shadowing a deployment (issue #13, parts 5 and 6)."""
