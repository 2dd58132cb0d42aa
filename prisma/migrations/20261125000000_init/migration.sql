-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "TrainState" AS ENUM ('running', 'closed');

-- CreateEnum
CREATE TYPE "DecisionOutcome" AS ENUM ('allow', 'deny');

-- CreateEnum
CREATE TYPE "AppealStatus" AS ENUM ('open', 'granted', 'rejected', 'withdrawn');

-- CreateTable
CREATE TABLE "trains" (
    "id" TEXT NOT NULL,
    "change_id" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "repo" TEXT NOT NULL,
    "service" TEXT NOT NULL,
    "environment" TEXT NOT NULL,
    "author" TEXT NOT NULL,
    "state" "TrainState" NOT NULL DEFAULT 'running',
    "outcome" TEXT,
    "reason" TEXT,
    "candidate_sha" TEXT,
    "merge_sha" TEXT,
    "change_request_digest" TEXT NOT NULL,
    "change_request" JSONB NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "closed_at" TIMESTAMPTZ(3),

    CONSTRAINT "trains_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "stages" (
    "id" BIGSERIAL NOT NULL,
    "train_id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "detail" TEXT NOT NULL DEFAULT '',
    "started_at" TIMESTAMPTZ(3) NOT NULL,
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "stages_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "eval_results" (
    "id" BIGSERIAL NOT NULL,
    "train_id" TEXT NOT NULL,
    "candidate_sha" TEXT NOT NULL,
    "score" DOUBLE PRECISION NOT NULL,
    "threshold" DOUBLE PRECISION NOT NULL,
    "passed" BOOLEAN NOT NULL,
    "checks" JSONB NOT NULL,
    "duration_ms" INTEGER NOT NULL,
    "report_digest" TEXT NOT NULL,
    "recorded_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "eval_results_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "risk_reports" (
    "id" BIGSERIAL NOT NULL,
    "train_id" TEXT NOT NULL,
    "candidate_sha" TEXT NOT NULL,
    "score" DOUBLE PRECISION NOT NULL,
    "factors" JSONB NOT NULL,
    "recorded_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "risk_reports_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "policy_decisions" (
    "id" BIGSERIAL NOT NULL,
    "train_id" TEXT NOT NULL,
    "candidate_sha" TEXT NOT NULL,
    "outcome" "DecisionOutcome" NOT NULL,
    "denials" JSONB NOT NULL,
    "notes" JSONB NOT NULL,
    "policy_digest" TEXT NOT NULL,
    "decision_digest" TEXT NOT NULL,
    "decided_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "policy_decisions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "appeals" (
    "id" TEXT NOT NULL,
    "train_id" TEXT NOT NULL,
    "decision_id" BIGINT,
    "rules" TEXT[],
    "appellant" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "status" "AppealStatus" NOT NULL DEFAULT 'open',
    "decided_by" TEXT,
    "decision_reason" TEXT,
    "opened_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "decided_at" TIMESTAMPTZ(3),

    CONSTRAINT "appeals_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "provenance" (
    "id" BIGSERIAL NOT NULL,
    "train_id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "environment" TEXT NOT NULL DEFAULT '',
    "statement_digest" TEXT NOT NULL,
    "envelope" JSONB NOT NULL,
    "key_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "provenance_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "cost_ledger" (
    "id" BIGSERIAL NOT NULL,
    "key" TEXT NOT NULL,
    "train_id" TEXT NOT NULL,
    "category" TEXT NOT NULL,
    "provider" TEXT NOT NULL DEFAULT '',
    "model" TEXT NOT NULL DEFAULT '',
    "tokens_in" INTEGER NOT NULL DEFAULT 0,
    "tokens_out" INTEGER NOT NULL DEFAULT 0,
    "cost_usd" DECIMAL(12,6) NOT NULL,
    "recorded_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "cost_ledger_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_events" (
    "id" BIGSERIAL NOT NULL,
    "key" TEXT NOT NULL,
    "train_id" TEXT,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "detail" JSONB NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "audit_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "trains_change_id_idx" ON "trains"("change_id");

-- CreateIndex
CREATE UNIQUE INDEX "stages_train_id_name_key" ON "stages"("train_id", "name");

-- CreateIndex
CREATE UNIQUE INDEX "eval_results_train_id_candidate_sha_key" ON "eval_results"("train_id", "candidate_sha");

-- CreateIndex
CREATE UNIQUE INDEX "risk_reports_train_id_candidate_sha_key" ON "risk_reports"("train_id", "candidate_sha");

-- CreateIndex
CREATE UNIQUE INDEX "policy_decisions_train_id_candidate_sha_key" ON "policy_decisions"("train_id", "candidate_sha");

-- CreateIndex
CREATE INDEX "appeals_train_id_idx" ON "appeals"("train_id");

-- CreateIndex
CREATE UNIQUE INDEX "provenance_train_id_kind_environment_key" ON "provenance"("train_id", "kind", "environment");

-- CreateIndex
CREATE UNIQUE INDEX "cost_ledger_key_key" ON "cost_ledger"("key");

-- CreateIndex
CREATE INDEX "cost_ledger_train_id_idx" ON "cost_ledger"("train_id");

-- CreateIndex
CREATE UNIQUE INDEX "audit_events_key_key" ON "audit_events"("key");

-- CreateIndex
CREATE INDEX "audit_events_train_id_at_idx" ON "audit_events"("train_id", "at");

-- AddForeignKey
ALTER TABLE "stages" ADD CONSTRAINT "stages_train_id_fkey" FOREIGN KEY ("train_id") REFERENCES "trains"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "eval_results" ADD CONSTRAINT "eval_results_train_id_fkey" FOREIGN KEY ("train_id") REFERENCES "trains"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "risk_reports" ADD CONSTRAINT "risk_reports_train_id_fkey" FOREIGN KEY ("train_id") REFERENCES "trains"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "policy_decisions" ADD CONSTRAINT "policy_decisions_train_id_fkey" FOREIGN KEY ("train_id") REFERENCES "trains"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "appeals" ADD CONSTRAINT "appeals_train_id_fkey" FOREIGN KEY ("train_id") REFERENCES "trains"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "appeals" ADD CONSTRAINT "appeals_decision_id_fkey" FOREIGN KEY ("decision_id") REFERENCES "policy_decisions"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "provenance" ADD CONSTRAINT "provenance_train_id_fkey" FOREIGN KEY ("train_id") REFERENCES "trains"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "cost_ledger" ADD CONSTRAINT "cost_ledger_train_id_fkey" FOREIGN KEY ("train_id") REFERENCES "trains"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_train_id_fkey" FOREIGN KEY ("train_id") REFERENCES "trains"("id") ON DELETE CASCADE ON UPDATE CASCADE;

