package node

import (
	"context"
	"errors"
	"log/slog"
	"strconv"

	"github.com/tandem-cc/tandem/internal/config"
)

// fileAuthor is the author of the versions the configuration file gave.
const fileAuthor = "config file"

// seedDoc decides which version of a document kept in the config store a
// node starts with: the configuration file's (fromFile, already valid) or
// one saved at run time. An administrator expects:
//
//  1. First start: the file's, stored as version 1.
//  2. The file changed since the store last took it (same says whether
//     two documents hold the same configuration): the file wins, since the
//     administrator edited it to be used, and is stored as a new version.
//     Versions saved at run time in between stay in the history; the log
//     says they were overridden.
//  3. Otherwise the newest stored version wins: a change made in the
//     console or over CTI survives a restart. If it no longer validates
//     (problems says why; stored by an older tandem, made invalid by an
//     edit of the rest of the file, a database edited by hand) it is
//     skipped, with its problems logged, and the file's runs and is
//     stored: a store never bricks the start.
//
// Every start logs which one runs and why. It returns the document to run
// and its version.
func seedDoc(ctx context.Context, st *config.Store, kind string, fromFile []byte, same func(a, b []byte) bool,
	problems func(body []byte) string, log *slog.Logger) ([]byte, int, error) {
	if log == nil {
		log = slog.Default()
	}
	log = log.With("document", kind)
	latest, err := st.Latest(ctx, kind)
	switch {
	case errors.Is(err, config.ErrNoDocument):
		v, err := st.Save(ctx, kind, fromFile, fileAuthor)
		if err != nil {
			return nil, 0, err
		}
		log.Info("configuration: first start, the file's section stored", "version", v)
		return fromFile, v, nil
	case err != nil:
		return nil, 0, err
	}
	useFile := func(why string, args ...any) ([]byte, int, error) {
		v, err := st.Save(ctx, kind, fromFile, fileAuthor)
		if err != nil {
			return nil, 0, err
		}
		log.Warn("configuration: the file's section runs, stored as a new version: "+why, append([]any{"version", v}, args...)...)
		return fromFile, v, nil
	}
	last, err := st.LatestBy(ctx, kind, fileAuthor)
	switch {
	case errors.Is(err, config.ErrNoDocument):
		// Every version was saved at run time (a store from elsewhere):
		// the file has never been taken, so it counts as changed.
		return useFile("the store holds no version from the file", "overrides", latest.Version)
	case err != nil:
		return nil, 0, err
	}
	if !same(last.Body, fromFile) {
		if latest.Version != last.Version {
			return useFile("the file changed since version "+strconv.Itoa(last.Version)+"; run-time changes after it are overridden (kept in the history)",
				"file_version", last.Version, "overridden", latest.Version)
		}
		return useFile("the file changed since version "+strconv.Itoa(last.Version), "file_version", last.Version)
	}
	if p := problems(latest.Body); p != "" {
		return useFile("stored version "+strconv.Itoa(latest.Version)+" does not validate", "skipped", latest.Version, "author", latest.Author,
			"problems", p)
	}
	if latest.Version == last.Version {
		log.Info("configuration: the file's section, unchanged since it was stored", "version", latest.Version)
	} else {
		log.Info("configuration: the newest stored version, saved at run time after the file's (unchanged) section", "version", latest.Version,
			"author", latest.Author, "file_version", last.Version)
	}
	return latest.Body, latest.Version, nil
}
