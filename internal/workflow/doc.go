// Package workflow holds the test that lints the CI workflows.
package workflow
