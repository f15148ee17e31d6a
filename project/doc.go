// Package project holds daemongen's on-disk state of a generated project that is not a render:
// the lock that lets one writer at a time change it, and (in write.go of package generator) the
// journal that makes a change crash-safe. generator stays a pure renderer over fs.FS; the
// commands in package main stay thin adapters.
package project
