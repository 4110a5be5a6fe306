package report

import (
	"fmt"
	"time"

	"github.com/tandem-cc/tandem/internal/config/field"
)

// Config is the report section of tandem's configuration: the durable
// event store every role's events go to, and how records are cut.
//
//	report:
//	  driver: postgres
//	  dsn: postgres://tandem@db:5432/tandem?sslmode=disable
//	  interval: 15m
//	  service_level: 20s
type Config struct {
	// Driver is sqlite (the embedded default, data_dir/events.db) or
	// postgres (DSN); "off" keeps events in memory and the log only.
	Driver string `yaml:"driver"`
	DSN    string `yaml:"dsn"`
	// Interval is the interval tables' period: 15m or 30m (default 30m).
	Interval field.Duration `yaml:"interval"`
	// ServiceLevel is the service-level threshold (default 20s) and
	// ShortCall the short-call threshold (default 5s).
	ServiceLevel field.Duration `yaml:"service_level"`
	ShortCall    field.Duration `yaml:"short_call"`
	// Buckets are the answer-time bucket bounds of the interval rows,
	// ascending, at most MaxBuckets-1 (default UCCE's: 8s, 30s, 60s, 90s,
	// 120s, 180s, 300s, 600s, 1200s).
	Buckets []field.Duration `yaml:"buckets"`
	// RetentionDays: events and records older than this many days are
	// purged once a day; 0 keeps everything.
	RetentionDays int `yaml:"retention_days"`
}

// Fill puts the named defaults in every field left empty; the record
// defaults (DefaultInterval...) are filled where records are cut.
func (c *Config) Fill() {
	if c.Driver == "" {
		c.Driver = DriverSQLite
	}
}

// Validate returns every problem of the section, at its path.
func (c Config) Validate() []field.Error {
	var errs field.Errors
	switch c.Driver {
	case DriverSQLite, "off":
	case DriverPostgres:
		if c.DSN == "" {
			errs.Add("report.dsn", "postgres needs a dsn")
		}
	default:
		errs.Add("report.driver", "unknown driver %q (want sqlite, postgres or off)", c.Driver)
	}
	if iv := c.Interval.D(); iv != 0 && iv != 15*time.Minute && iv != 30*time.Minute {
		errs.Add("report.interval", "%v: want 15m or 30m", iv)
	}
	if c.ServiceLevel < 0 || c.ShortCall < 0 || c.RetentionDays < 0 {
		errs.Add("report", "service_level, short_call and retention_days must not be negative")
	}
	if len(c.Buckets) > MaxBuckets-1 {
		errs.Add("report.buckets", "%d bounds, at most %d", len(c.Buckets), MaxBuckets-1)
	}
	for i, b := range c.Buckets {
		if b <= 0 || (i > 0 && b <= c.Buckets[i-1]) {
			errs.Add(fmt.Sprintf("report.buckets[%d]", i), "%v: bounds must be positive and ascending", b.D())
		}
	}
	return errs
}

// Records is how the section cuts records (RecordConfig fills what is
// left empty).
func (c Config) Records() RecordConfig {
	rc := RecordConfig{Interval: c.Interval.D(), ServiceLevel: c.ServiceLevel.D(), ShortCall: c.ShortCall.D()}
	for _, b := range c.Buckets {
		rc.Buckets = append(rc.Buckets, b.D())
	}
	return rc
}

// Retention is how long events and records are kept (WriterConfig's);
// 0 keeps everything.
func (c Config) Retention() time.Duration { return time.Duration(c.RetentionDays) * 24 * time.Hour }
