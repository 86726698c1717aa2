"""The deployment lifecycle (first visit, agreement, visits, mid-point review, closing impact)
and the deployment record (export and one-page summary)."""
