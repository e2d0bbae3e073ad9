module github.com/goasync/async/bench

go 1.25

require (
	github.com/alitto/pond/v2 v2.7.1
	github.com/goasync/async v0.0.0
	github.com/panjf2000/ants/v2 v2.12.1
	github.com/samber/lo v1.53.0
	github.com/sourcegraph/conc v0.3.0
	go.uber.org/goleak v1.3.0
	golang.org/x/sync v0.17.0
)

require (
	go.uber.org/atomic v1.7.0 // indirect
	go.uber.org/multierr v1.9.0 // indirect
	golang.org/x/text v0.30.0 // indirect
)

replace github.com/goasync/async => ../
