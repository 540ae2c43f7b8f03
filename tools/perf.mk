# Performance (included by the Makefile): `make bench` is in the Makefile; this adds the scaling
# figure. bin/bench --scaling times kdlab and PyTorch side by side at patch 7, 4, 2 (17, 50, 197
# tokens) and width 96, 192, 384, writes results/bench-scaling.csv, and gnuplot draws
# results/bench-scaling.png from it. About 5 minutes on an idle 2-core machine.
.PHONY: bench-scaling
NOPLAN_GOALS += bench-scaling
SCALING_STEPS ?= 3
bench-scaling: bin/bench plots/perf-scaling.gp
bench-scaling: ## kdlab vs PyTorch by tokens and width: results/bench-scaling.png
	@mkdir -p results
	$(Q)bin/bench --scaling --steps $(SCALING_STEPS)
	$(Q)gnuplot plots/perf-scaling.gp
	@echo "  PLOT    results/bench-scaling.png"
