import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020, { type ValidateFunction } from "ajv/dist/2020.js";

/**
 * Checks real HTTP answers against one of docs/openapi/*.yaml: the status is documented for the
 * operation, every documented header is there when required and matches its schema, no header
 * the document does not name (beyond HTTP's own framing), the media type is documented and the
 * body matches its schema.
 *
 * A request the document has no operation for is held to components.responses: `NotFound` when
 * no path matches, `MethodNotAllowed` when the path exists for other methods; that is what the
 * documents' rules say. Paths are matched exactly: our documents have no path templates.
 *
 * Written on Ajv (2020-12, the dialect of OpenAPI 3.1 schemas) rather than an npm response
 * validator: the ones maintained today (openapi-response-validator, jest-openapi) read OpenAPI
 * 3.0 schemas, and this needs 3.1.
 */
export class OpenApiResponses {
  private readonly bodies = new Ajv2020({ allErrors: true, strictTypes: false });
  private readonly headers = new Ajv2020({ allErrors: true, strictTypes: false, coerceTypes: true });
  private readonly bodyValidators = new WeakMap<object, ValidateFunction>();
  private readonly headerValidators = new WeakMap<object, ValidateFunction>();

  private constructor(
    /** The document with every `$ref` replaced by what it points to. */
    private readonly document: OpenApi,
  ) {
    for (const ajv of [this.bodies, this.headers]) ajv.addFormat("int64", /^-?\d+$/);
  }

  /** Loads a document (YAML or JSON text), refusing one that is not valid OpenAPI. */
  static async fromText(text: string): Promise<OpenApiResponses> {
    const validator = new Validator();
    const result = await validator.validate(text);
    if (!result.valid) throw new Error(`not a valid OpenAPI document: ${JSON.stringify(result.errors)}`);
    return new OpenApiResponses(validator.resolveRefs() as OpenApi);
  }

  static async fromFile(path: string): Promise<OpenApiResponses> {
    return OpenApiResponses.fromText(await Bun.file(path).text());
  }

  /** Reads `response`'s body and returns it with every way it departs from the document. */
  async check(response: Response, request: { method?: string; path: string }): Promise<CheckedResponse> {
    const body = await response.text();
    const problems = this.problems(request, { status: response.status, headers: response.headers, body });
    return { status: response.status, headers: response.headers, body, problems };
  }

  /** Every way an answer departs from the document; empty when it conforms. `path` may carry a query. */
  problems(request: { method?: string; path: string }, answer: Answer): string[] {
    const method = (request.method ?? "GET").toLowerCase();
    const where = `${method.toUpperCase()} ${request.path} → ${answer.status}`;
    const described = this.responseFor(method, new URL(request.path, "http://any.invalid").pathname, answer.status);
    if (typeof described === "string") return [`${where}: ${described}`];
    return [...this.headerProblems(described, answer), ...this.bodyProblems(described, answer)].map((p) => `${where}: ${p}`);
  }

  private responseFor(method: string, path: string, status: number): ResponseObject | string {
    const responses = this.document.components?.responses ?? {};
    const pathItem = this.document.paths?.[path];
    if (pathItem === undefined) {
      if (status !== 404) return `no such path in the document, so 404 (NotFound) was expected`;
      return responses.NotFound ?? "the document has no components.responses.NotFound";
    }
    const operation = pathItem[method];
    if (operation === undefined) {
      if (status !== 405) return `the path has no ${method.toUpperCase()} in the document, so 405 (MethodNotAllowed) was expected`;
      return responses.MethodNotAllowed ?? "the document has no components.responses.MethodNotAllowed";
    }
    const described = operation.responses[String(status)] ?? operation.responses.default;
    return described ?? `status ${status} is not documented (documented: ${Object.keys(operation.responses).join(", ")})`;
  }

  private headerProblems(described: ResponseObject, answer: Answer): string[] {
    const problems: string[] = [];
    const documented = new Map(Object.entries(described.headers ?? {}).map(([name, header]) => [name.toLowerCase(), header]));
    for (const [name, header] of documented) {
      const value = answer.headers.get(name);
      if (value === null) {
        if (header.required) problems.push(`missing required header ${name}`);
        continue;
      }
      if (header.schema && !this.headerValidator(header.schema)({ value })) {
        problems.push(`header ${name}: ${JSON.stringify(value)} does not match ${JSON.stringify(header.schema)}`);
      }
    }
    for (const name of answer.headers.keys()) {
      if (!documented.has(name) && !HTTP_FRAMING_HEADERS.has(name) && name !== "content-type") {
        problems.push(`header ${name} is not in the document`);
      }
    }
    return problems;
  }

  private bodyProblems(described: ResponseObject, answer: Answer): string[] {
    const content = described.content;
    if (content === undefined) return answer.body === "" ? [] : ["a body, but the document describes none"];
    const mediaType = answer.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase();
    const media = mediaType === undefined ? undefined : content[mediaType];
    if (media === undefined) {
      return [`Content-Type ${JSON.stringify(answer.headers.get("content-type"))}, expected one of ${Object.keys(content).join(", ")}`];
    }
    let value: unknown = answer.body;
    if (mediaType === "application/json") {
      try {
        value = JSON.parse(answer.body);
      } catch {
        return [`body is not JSON: ${JSON.stringify(answer.body.slice(0, 200))}`];
      }
    }
    if (media.schema === undefined) return [];
    const validate = this.bodyValidator(media.schema);
    if (validate(value)) return [];
    return (validate.errors ?? []).map((e) => `body${e.instancePath} ${e.message ?? "is invalid"}`);
  }

  private bodyValidator(schema: object): ValidateFunction {
    let validate = this.bodyValidators.get(schema);
    if (validate === undefined) {
      validate = this.bodies.compile(schema);
      this.bodyValidators.set(schema, validate);
    }
    return validate;
  }

  /**
   * Checks `{ value }`: a header is text, and Ajv turns it into the schema's type (an integer
   * `Age`) only for a value inside an object.
   */
  private headerValidator(schema: object): ValidateFunction {
    let validate = this.headerValidators.get(schema);
    if (validate === undefined) {
      validate = this.headers.compile({ type: "object", properties: { value: schema } });
      this.headerValidators.set(schema, validate);
    }
    return validate;
  }
}

/** An answer as received: `body` is its text. */
export interface Answer {
  status: number;
  headers: Headers;
  body: string;
}

export interface CheckedResponse extends Answer {
  /** Empty when the answer conforms to the document. */
  problems: string[];
}

/** Headers HTTP itself adds to frame or date a message; documents do not name them. */
const HTTP_FRAMING_HEADERS = new Set(["content-length", "transfer-encoding", "connection", "keep-alive", "date"]);

interface HeaderObject {
  required?: boolean;
  schema?: object;
}
interface ResponseObject {
  headers?: Record<string, HeaderObject>;
  content?: Record<string, { schema?: object }>;
}
interface OperationObject {
  responses: Record<string, ResponseObject>;
}
interface OpenApi {
  paths?: Record<string, Record<string, OperationObject>>;
  components?: { responses?: Record<string, ResponseObject> };
}
