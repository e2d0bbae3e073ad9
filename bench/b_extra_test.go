package bench

// bExtra returns workload B's variants that need APIs still landing
// (Scope, async.Map); it is filled in as they do.
func bExtra(n int, in []int) []variant { return nil }

// dExtra returns workload D's variants that need APIs still landing.
func dExtra(n int, in []int) []variant { return nil }

// pendingExtra returns workload E's variants that need APIs still landing.
func pendingExtra() []pendingVariant { return nil }

// failFastExtra and collectAllExtra return workload F's variants that need
// APIs still landing.
func failFastExtra(n int, in []int) []variant   { return nil }
func collectAllExtra(n int, in []int) []variant { return nil }
