-- Templated answers (issue 15): each cached answer keeps its prompt's shape (core/llm-templates.ts promptShape),
-- so the gateway finds the answers to one recurring task's shape. Entries cached before have none.
ALTER TABLE "llm_cache" ADD COLUMN "shape" TEXT;
CREATE INDEX "llm_cache_call_type_model_template_shape_idx" ON "llm_cache"("call_type", "model", "template", "shape");
