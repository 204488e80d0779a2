"""Operations: ``generate_load_data``, ``bench_makeup_search``, ``bench_expiry_sweep`` and
``check_invariants`` (management commands). No models, no pages."""
