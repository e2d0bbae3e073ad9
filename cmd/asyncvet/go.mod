module github.com/goasync/async/cmd/asyncvet

go 1.26.0

replace github.com/goasync/async => ../..

require golang.org/x/tools v0.52.0

require go.uber.org/goleak v1.3.0 // indirect
