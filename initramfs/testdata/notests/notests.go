// Package notests has no tests, on purpose.
package notests
