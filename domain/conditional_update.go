package domain

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// conditionalUpdate applies set to one row of table with
// "WHERE id = ? AND version = ?" and bumps the version. It never reads before
// writing: on zero rows it tells "gone" from "stale" with one follow-up read.
// set uses a map so intended zero values (clearing a field) are written.
// scope is the caller's visibility condition (nil: none), checked in the
// same statement so authorization comes before the precondition: a row the
// actor may not see is "not found" whatever version they sent.
func conditionalUpdate(ctx context.Context, tx *gorm.DB, table string, id uuid.UUID, pre Precondition, set map[string]any, scope clause.Expression) error {
	upd := make(map[string]any, len(set)+2)
	for k, v := range set {
		upd[k] = v
	}
	upd["version"] = gorm.Expr("version + 1")
	upd["updated_at"] = gorm.Expr("now()")
	if scope == nil {
		scope = clause.Expr{SQL: "TRUE"}
	}
	res := tx.WithContext(ctx).Table(table).Where("id = ? AND ? AND ?", id, pre.sql("version"), scope).Updates(upd)
	if res.Error != nil {
		return fmt.Errorf("update %s: %w", table, res.Error)
	}
	if res.RowsAffected == 1 {
		return nil
	}
	var current int64
	r := tx.WithContext(ctx).Table(table).Select("version").Where("id = ? AND ?", id, scope).Scan(&current)
	if r.Error != nil {
		return fmt.Errorf("read %s version: %w", table, r.Error)
	}
	if r.RowsAffected == 0 {
		return NotFound(table)
	}
	if err := pre.check(current); err != nil {
		return err
	}
	// The version matches now: a concurrent change got in between.
	return Stale(current)
}
