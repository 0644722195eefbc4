"""Stage 4, evaluation: the engine (:mod:`.engine`) orders the events, builds facts, asks the
matcher which rules fire, and computes case time lines (:mod:`.cases`), clock arithmetic
(:mod:`.clocks`), obligations (:mod:`.obligations`), tiers (:mod:`.tiers`) and etiquette
(:mod:`.etiquette`)."""
