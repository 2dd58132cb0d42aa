-- A release taken back out of an environment (a later environment of its promotion failed and the
-- change request said rollback-all): the record's "last promotion" there skips it.
ALTER TABLE "provenance" ADD COLUMN "withdrawn_at" TIMESTAMPTZ(3);
ALTER TABLE "provenance" ADD COLUMN "withdrawn_reason" TEXT;
