"""The outbox: messages owed durably with the change that causes them (`owing`), and notices
to coordinators (`notify`). The platform's sender delivers them (`handlers.slack.sender`).
"""
