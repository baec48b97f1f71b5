"""An example alma plugin: members thank each other with kudos."""
