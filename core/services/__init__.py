"""Core services: plain functions holding the rules, shared by pages, sockets, jobs and CLI.

They flush but never commit: the caller (a view, a job, a command) owns the unit of work, so an
action and every plugin's reaction to it commit together.
"""
