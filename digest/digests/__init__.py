"""Digests: editions and editors' decisions, which stories for whom (select), the mail they read
(render), queueing and delivery."""
