-- Every scenario behind an eval result's score (id, score, passed; skipped ones left out): the outlier
-- analyzer judges each scenario against its own rolling baseline.
ALTER TABLE "eval_results" ADD COLUMN "scenarios" JSONB NOT NULL DEFAULT '[]';
