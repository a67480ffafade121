-- yinxin store, SQLite, version 4: counters from which nodes lease blocks of serial numbers
-- (the time-stamping authority's TSTInfo serials). A lease advances `next` by the block size in
-- one UPDATE … RETURNING, so two nodes (or two processes on one file) never get overlapping
-- blocks, and a block is never handed out twice: `next` only grows (a trigger refuses lowering
-- it and deleting a counter). Kept in step with ../postgres/.

CREATE TABLE serial_counters (
    name TEXT PRIMARY KEY NOT NULL,
    next BIGINT NOT NULL CHECK (next >= 1)
);

INSERT INTO serial_counters (name, next) VALUES ('tsa', 1);

CREATE TRIGGER serial_counters_only_grow BEFORE UPDATE ON serial_counters
WHEN NEW.next <= OLD.next OR NEW.name <> OLD.name
BEGIN
    SELECT RAISE(ABORT, 'serial counters only grow');
END;

CREATE TRIGGER serial_counters_no_delete BEFORE DELETE ON serial_counters
BEGIN
    SELECT RAISE(ABORT, 'serial counters are never deleted');
END;
