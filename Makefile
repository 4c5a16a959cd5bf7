.PHONY: test run build
test:
	./scripts/test
run:
	swift run handover serve
build:
	swift build
