// Package tracecheck tests goasync's runtime/trace integration by parsing a
// captured execution trace with golang.org/x/exp/trace (the standard
// library's trace reader is internal). It is a module of its own so that the
// library does not depend on golang.org/x/exp.
package tracecheck
