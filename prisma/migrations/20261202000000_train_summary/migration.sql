-- What the workflow knew when the train closed (its timeline and rollout figures): `maestro explain`,
-- the KPIs and the dashboard read it after Temporal's retention has dropped the history.
ALTER TABLE "trains" ADD COLUMN "summary" JSONB;
