"""Active selection: difficulty of sessions, gains by rank, the max-min policy, sampling and
the selection strategies (the paper's Module 3). Numpy only, except `difficulty` (torch);
`registry` and `settings` load neither (the CLI lists strategies without them)."""
