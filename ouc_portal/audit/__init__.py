"""The audit log: every state change and every staff action — who, when, what, from where.

Rows are only ever added. The model and its queryset refuse updates and deletes, and on
PostgreSQL a trigger refuses them too. Superusers search the log in the admin.
"""
