"""Stage 1, the ruleset: YAML read with positions (:mod:`.reader`), pydantic models of each
section (:mod:`.model`, :mod:`.tiers`, :mod:`.etiquette`) and the semantic checks
(:mod:`.checks`). Nothing here evaluates anything."""
