"""The mentoring plugin: the mentor directory, mentorship requests and their state machine,
and the pair's private chat."""
