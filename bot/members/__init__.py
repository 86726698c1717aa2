"""Who is on a deployment besides its lead supporter, and what that counts for.

Low in the domains (just above the outbox) so that routing, check-ins, the digest, the
Home tab and insight all count the same way: see `bot.members.service`.
"""
