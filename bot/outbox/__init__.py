"""The outbox: messages owed durably with the change that causes them, and delivered
(`delivery`); notices to coordinators (`notify`).
"""
