package main

import (
	"context"
	"errors"
)

func runRun(ctx context.Context, e *env, args []string) error   { return errors.New("todo") }
func runShell(ctx context.Context, e *env, args []string) error { return errors.New("todo") }
func runBench(ctx context.Context, e *env, args []string) error { return errors.New("todo") }
