package domain

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// VersionMissing stands for "the caller sent no If-Match". It never matches a
// row, and is reported (428) only after authorization, so a resource the
// caller may not see stays 404.
const VersionMissing int64 = -1

// VersionAny stands for "no precondition": operations where If-Match is
// optional (accepting or rejecting a proposal) pass it when none was sent.
const VersionAny int64 = -2

// precondition compares the If-Match version with the current one, for use
// after authorization: 428 when it is missing, 412 (with the current
// version) when it does not match, nil otherwise.
func precondition(ifVersion, current int64) error {
	switch {
	case ifVersion == VersionAny || ifVersion == current:
		return nil
	case ifVersion == VersionMissing:
		return &Error{Kind: KindPreconditionRequired, Field: "header.If-Match",
			Message: "this change needs an If-Match header with the ETag you last read, so nobody's edit is lost"}
	}
	return Stale(current)
}

// conditionalUpdate applies set to one row of table with
// "WHERE id = ? AND version = ?" and bumps the version. It never reads before
// writing: on zero rows it tells "gone" from "stale" with one follow-up read.
// set uses a map so intended zero values (clearing a field) are written.
// scope is the caller's visibility condition (nil: none), checked in the
// same statement so authorization comes before the precondition: a row the
// actor may not see is "not found" whatever version they sent.
func conditionalUpdate(ctx context.Context, tx *gorm.DB, table string, id uuid.UUID, ifVersion int64, set map[string]any, scope clause.Expression) error {
	upd := make(map[string]any, len(set)+2)
	for k, v := range set {
		upd[k] = v
	}
	upd["version"] = gorm.Expr("version + 1")
	upd["updated_at"] = gorm.Expr("now()")
	if scope == nil {
		scope = clause.Expr{SQL: "TRUE"}
	}
	res := tx.WithContext(ctx).Table(table).Where("id = ? AND version = ? AND ?", id, ifVersion, scope).Updates(upd)
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
	if err := precondition(ifVersion, current); err != nil {
		return err
	}
	// The version matches now: a concurrent change got in between.
	return Stale(current)
}
