//go:build !unix

package journal

import "os"

func lockDir(string) (*os.File, error) { return nil, nil }

func unlockDir(*os.File) {}

func checkOwner(os.FileInfo) error { return nil }
