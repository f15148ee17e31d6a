//go:build !linux

package project

import "os"

// durable fsyncs each file and directory: there is no syncfs(2) here.
func durable(paths []string) error {
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
