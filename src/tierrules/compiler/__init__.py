"""Stage 2, the compiler: a checked ruleset becomes backend-neutral match rules
(:mod:`.conditions`), built calendars and per-rule contexts (:mod:`.compiled`);
:mod:`.load` runs read → validate → check → compile."""
