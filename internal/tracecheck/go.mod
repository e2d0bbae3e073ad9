module github.com/goasync/async/internal/tracecheck

go 1.26.0

require (
	github.com/goasync/async v0.1.0
	go.uber.org/goleak v1.3.0
	golang.org/x/exp v0.0.0-20261113113407-e3970619a1a4
)
