-- The LLM gateway's ledger (one row per call: provider, model, template, tokens, latency, dollars, cache
-- outcome, train and stage; a budget refusal too, with its policy reason) and its answer cache.
CREATE TABLE "llm_calls" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "train_id" TEXT,
    "stage" TEXT NOT NULL DEFAULT '',
    "call_type" TEXT NOT NULL,
    "template_id" TEXT NOT NULL,
    "template_version" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "tier" TEXT NOT NULL,
    "prompt_key" TEXT NOT NULL,
    "prompt_chars" INTEGER NOT NULL DEFAULT 0,
    "tokens_in" INTEGER NOT NULL DEFAULT 0,
    "tokens_out" INTEGER NOT NULL DEFAULT 0,
    "latency_ms" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "cost_usd" DECIMAL(12,6) NOT NULL DEFAULT 0,
    "cache" TEXT NOT NULL,
    "policy_reason" TEXT,
    "error" TEXT,
    "passed" BOOLEAN,

    CONSTRAINT "llm_calls_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "llm_cache" (
    "key" TEXT NOT NULL,
    "call_type" TEXT NOT NULL,
    "model" TEXT NOT NULL,
    "template" TEXT NOT NULL,
    "prompt" TEXT NOT NULL,
    "embedding" DOUBLE PRECISION[],
    "answer" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "hits" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "llm_cache_pkey" PRIMARY KEY ("key")
);

CREATE INDEX "llm_calls_train_id_idx" ON "llm_calls"("train_id");
CREATE INDEX "llm_calls_at_idx" ON "llm_calls"("at");
CREATE INDEX "llm_calls_call_type_prompt_key_idx" ON "llm_calls"("call_type", "prompt_key");
CREATE INDEX "llm_cache_call_type_model_template_idx" ON "llm_cache"("call_type", "model", "template");
