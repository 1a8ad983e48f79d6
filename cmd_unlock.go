package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/oppimport/oppimport/state"
)

const unlockSynopsis = `
Usage: oppimport unlock (--mapping M.yaml | --state FILE)

Releases the state database's lock. A run takes the lock over by itself when the run that
held it died on this machine; unlock is for when nothing can tell: the run that held it was
on another machine (a shared folder), or this system cannot be asked. It refuses while the
holder still runs on this machine. Check that no run is going on with the state database
before you release it: two runs at once could create a row twice.

Examples:
  oppimport unlock --mapping deals.yaml

Exit codes: 0 released, or there was no lock; 2 bad flags, no state database, or the holder
still runs.
`

func newUnlockCmd(a *app) *cobra.Command {
	var o stateFlags
	c := command("unlock (--mapping M.yaml | --state FILE)", "release the state database's lock when its holder is gone",
		unlockSynopsis, func() error { return runUnlock(a, o) })
	o.register(c.Flags(), "the mapping `FILE`: its state database lies beside it")
	return c
}

func runUnlock(a *app, o stateFlags) error {
	db, err := o.openExisting()
	if err != nil {
		return err
	}
	path := db.Path()
	defer db.Close()
	host, _ := os.Hostname()
	h, held, err := db.Release(context.Background(), host)
	var locked *state.LockedError
	switch {
	case errors.As(err, &locked):
		return nothingf("%s is held by %v, which still runs on this machine: wait for it, or stop it", path, locked.Holder)
	case err != nil:
		return nothingf("%v", err)
	case !held:
		fmt.Fprintf(a.ios.err, "%s was not locked\n", path)
		return nil
	}
	fmt.Fprintf(a.ios.err, "released the lock of %s, held by %v\n", path, h)
	return nil
}
