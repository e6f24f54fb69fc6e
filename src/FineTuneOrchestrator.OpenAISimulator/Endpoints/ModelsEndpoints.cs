using System.Text;
using System.Text.Json.Nodes;
using FineTuneOrchestrator.OpenAISimulator.Engine;

namespace FineTuneOrchestrator.OpenAISimulator.Endpoints;

/// <summary><c>/models</c> and <c>/chat/completions</c>.</summary>
internal static class ModelsEndpoints
{
    public static void Map(RouteGroupBuilder api, bool azure)
    {
        api.MapGet("/models", (SimulatorState state) =>
        {
            IEnumerable<JsonNode> data = BaseModels.All.Select(m => (JsonNode)Shapes.BaseModel(state, m, azure))
                .Concat(state.SucceededJobs().Where(j => !j.ModelDeleted).Select(j => (JsonNode)Shapes.TrainedModel(state, j, azure)));
            JsonObject list = Shapes.List(data, false);
            list.Remove("has_more");
            return Http.Json(list);
        });
        api.MapGet("/models/{model}", (string model, SimulatorState state) =>
        {
            if (BaseModels.Resolve(model) is { } info && info.Id == model)
            {
                return Http.Json(Shapes.BaseModel(state, info, azure));
            }

            SimJob? job = state.FindTrainedModel(model);
            return job is not null && job.FineTunedModel == model
                ? Http.Json(Shapes.TrainedModel(state, job, azure))
                : throw new ApiException(404, $"The model '{model}' does not exist", "invalid_request_error", "model", "model_not_found");
        });
        api.MapDelete("/models/{model}", (string model, SimulatorState state) =>
        {
            if (BaseModels.Resolve(model) is not null)
            {
                throw new ApiException(403, $"You do not have permission to delete the model '{model}': only fine-tuned models owned by your organization can be deleted.", "invalid_request_error", "model", "model_not_deletable");
            }

            return state.DeleteTrainedModel(model)
                ? Http.Json(new JsonObject { ["id"] = model, ["object"] = "model", ["deleted"] = true })
                : throw new ApiException(404, $"The model '{model}' does not exist", "invalid_request_error", "model", "model_not_found");
        });
        api.MapPost("/chat/completions", async (HttpContext context, SimulatorState state, CancellationToken ct) =>
        {
            JsonObject body = await Http.ReadBodyAsync(context.Request, ct).ConfigureAwait(false);
            string requested = body["model"] is JsonValue mv && mv.TryGetValue(out string? m) ? m : throw ApiException.BadRequest("you must provide a model parameter", "model");
            if (body["messages"] is not JsonArray messages || messages.Count == 0)
            {
                throw ApiException.BadRequest("Invalid 'messages': empty array. Expected an array with minimum length 1.", "messages");
            }

            string model = requested;
            string? deployment = null;
            if (azure && state.Options.Azure.RequireDeployments)
            {
                deployment = requested;
                model = state.ResolveDeployment(requested)
                    ?? throw new ApiException(404,
                        "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.",
                        code: "DeploymentNotFound") { AzureShape = true };
            }

            SimJob? trained = state.FindTrainedModel(model);
            BaseModels.Info? baseModel = trained is null ? BaseModels.Resolve(model) : null;
            if (trained is null && baseModel is null)
            {
                throw new ApiException(404, $"The model `{model}` does not exist or you do not have access to it.", "invalid_request_error", null, "model_not_found");
            }

            // A fine-tune lives by its root base model's retirement date on this face.
            if (state.Retirement.InferenceRefusal(model, trained?.BaseModel ?? baseModel!.Id, trained is not null, deployment, azure, state.Now) is { } retired)
            {
                throw retired;
            }

            if (state.DrawChatFault(model) is { } chatFault)
            {
                throw chatFault;
            }

            ChatInput input = ChatRequests.Read(body, messages);
            ModelOptions options = state.Options.Models;
            ModelReply reply = trained is not null
                ? SimulatedModels.AnswerAsFineTuned(input, trained, model, SimulatorState.CheckpointStep(trained, model), options)
                : SimulatedModels.AnswerAsBase(input, baseModel!.Id, options);
            string text = reply.Content ?? "";
            int promptTokens = 3 + messages.Sum(x => 3 + TrainingData.CountTokens(ChatRequests.ContentText(x?["content"])));
            int? maxTokens = ReadInt(body, "max_completion_tokens") ?? ReadInt(body, "max_tokens");
            string finish = reply.ToolCallsJson is not null ? "tool_calls" : "stop";
            if (maxTokens is { } max && TrainingData.CountTokens(text) > max)
            {
                text = Truncate(text, max);
                finish = "length";
            }

            int completionTokens = TrainingData.CountTokens(reply.ToolCallsJson ?? text);
            int n = ReadInt(body, "n") ?? 1;
            QuotaOptions quota = state.Options.Quota;
            if (quota.RequestsPerMinute > 0 || quota.TokensPerMinute > 0)
            {
                string key = string.Equals(quota.Scope, "Account", StringComparison.OrdinalIgnoreCase) ? "account" : (azure ? "azure:" : "openai:") + requested;
                QuotaDecision decision = state.Quota.Charge(key, quota, promptTokens + ((long)(maxTokens ?? completionTokens) * n));
                foreach ((string? name, string? value) in decision.Headers)
                {
                    context.Response.Headers[name] = value;
                }

                if (!decision.Allowed)
                {
                    throw ChatRequests.RateLimited(decision, requested, azure, state.Options.OrganizationId);
                }
            }

            string responseModel = trained is not null ? model : baseModel!.Id;
            string id = "chatcmpl-" + Guid.NewGuid().ToString("N")[..24];
            long created = Shapes.Unix(state.Now);
            var usage = new JsonObject
            {
                ["prompt_tokens"] = promptTokens,
                ["completion_tokens"] = completionTokens * n,
                ["total_tokens"] = promptTokens + completionTokens * n,
                ["prompt_tokens_details"] = new JsonObject { ["cached_tokens"] = 0, ["audio_tokens"] = 0 },
                ["completion_tokens_details"] = new JsonObject
                {
                    ["reasoning_tokens"] = 0, ["audio_tokens"] = 0, ["accepted_prediction_tokens"] = 0, ["rejected_prediction_tokens"] = 0,
                },
            };
            state.CountChatCompletion();

            if (body["stream"] is JsonValue sv && sv.TryGetValue(out bool stream) && stream)
            {
                await StreamAsync(context, id, created, responseModel, text, finish, usage, ct).ConfigureAwait(false);
                return Results.Empty;
            }

            var choices = new JsonArray();
            for (int i = 0; i < n; i++)
            {
                choices.Add(new JsonObject
                {
                    ["index"] = i,
                    ["message"] = ChatRequests.Message(reply.ToolCallsJson is null ? text : null, reply.ToolCallsJson, id, i),
                    ["logprobs"] = null,
                    ["finish_reason"] = finish,
                });
            }

            return Http.Json(new JsonObject
            {
                ["id"] = id,
                ["object"] = "chat.completion",
                ["created"] = created,
                ["model"] = responseModel,
                ["choices"] = choices,
                ["usage"] = usage,
                ["service_tier"] = "default",
                ["system_fingerprint"] = "fp_simulator",
            });
        });
    }

    private static async Task StreamAsync(HttpContext context, string id, long created, string model, string reply, string finish, JsonObject usage, CancellationToken ct)
    {
        context.Response.ContentType = "text/event-stream";
        JsonObject Chunk(JsonObject delta, string? finishReason) => new()
        {
            ["id"] = id,
            ["object"] = "chat.completion.chunk",
            ["created"] = created,
            ["model"] = model,
            ["system_fingerprint"] = "fp_simulator",
            ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["logprobs"] = null, ["finish_reason"] = finishReason }),
        };

        var chunks = new List<JsonObject> { Chunk(new JsonObject { ["role"] = "assistant", ["content"] = "", ["refusal"] = null }, null) };
        foreach (string piece in reply.Split(' '))
        {
            chunks.Add(Chunk(new JsonObject { ["content"] = chunks.Count == 1 ? piece : " " + piece }, null));
        }

        chunks.Add(Chunk([], finish));
        JsonObject final = Chunk([], null);
        final["choices"] = new JsonArray();
        final["usage"] = usage;
        chunks.Add(final);
        var sb = new StringBuilder();
        foreach (JsonObject chunk in chunks)
        {
            sb.Append("data: ").Append(chunk.ToJsonString(Http.RelaxedOptions)).Append("\n\n");
        }

        sb.Append("data: [DONE]\n\n");
        await context.Response.WriteAsync(sb.ToString(), ct).ConfigureAwait(false);
    }

    private static int? ReadInt(JsonObject body, string name) => body[name] is JsonValue v && v.TryGetValue(out int i) ? i : null;

    private static string Truncate(string text, int maxTokens)
    {
        string[] words = text.Split(' ');
        var sb = new StringBuilder();
        foreach (string word in words)
        {
            string candidate = sb.Length == 0 ? word : sb + " " + word;
            if (TrainingData.CountTokens(candidate) > maxTokens)
            {
                break;
            }

            sb.Clear().Append(candidate);
        }

        return sb.ToString();
    }
}
