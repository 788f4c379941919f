package dev.lamina.node.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lamina.actors.queue.QueueActor;
import dev.lamina.actors.queue.QueueAttributes;
import dev.lamina.actors.queue.QueueMessage;
import dev.lamina.actors.registry.RegistryClient;
import dev.lamina.node.api.FunctionJson;
import dev.lamina.node.api.NodeSettings;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.util.ByteString;

/**
 * Lamina queues over the Amazon SQS JSON protocol ({@code POST /} with
 * {@code X-Amz-Target: AmazonSQS.<Operation>}, AWS JSON 1.0), so the AWS SDKs' SQS clients and
 * {@code aws sqs --endpoint-url} work against a node. Queue URLs are
 * {@code http://<host>:<port>/<account>/<name>}, ARNs {@code arn:aws:sqs:<region>:<account>:<name>}.
 *
 * <p>Errors carry {@code __type} ({@code com.amazonaws.sqs#<Shape>}), {@code message} and
 * {@code x-amzn-query-error: <legacy code>;Sender}, as SQS sends them.
 */
public final class SqsApi {

  private static final ContentType AMZ_JSON = ContentTypes.parse("application/x-amz-json-1.0");
  private static final Pattern QUEUE_NAME = Pattern.compile("[A-Za-z0-9_-]{1,80}");
  private static final Pattern ENTRY_ID = Pattern.compile("[A-Za-z0-9_-]{1,80}");
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  /** An SQS error: the model shape, the legacy (query) code, the HTTP status and the message. */
  static final class SqsError extends RuntimeException {
    final String shape;
    final String queryCode;
    final int status;

    SqsError(String shape, String queryCode, int status, String message) {
      super(message, null, false, false);
      this.shape = shape;
      this.queryCode = queryCode;
      this.status = status;
    }

    static SqsError invalidParameter(String message) {
      return new SqsError("InvalidParameterValueException", "InvalidParameterValue", 400, message);
    }

    static SqsError missing(String member) {
      return new SqsError("MissingRequiredParameterException", "MissingParameter", 400,
          "The request must contain the parameter " + member + ".");
    }
  }

  private final NodeSettings settings;
  private final ClusterSharding sharding;
  private final RegistryClient registry;

  public SqsApi(NodeSettings settings, ClusterSharding sharding, RegistryClient registry) {
    this.settings = settings;
    this.sharding = sharding;
    this.registry = registry;
  }

  /** Answers one SQS request ({@code target} = the part after {@code AmazonSQS.}). */
  public CompletionStage<HttpResponse> handle(String target, ByteString body, String host) {
    CompletionStage<ObjectNode> result;
    try {
      JsonNode request = parse(body);
      result = operation(target, request, host);
    } catch (RuntimeException e) {
      result = CompletableFuture.failedFuture(e);
    }
    return result.handle((ok, failure) -> failure == null ? json(200, ok) : error(failure));
  }

  private CompletionStage<ObjectNode> operation(String op, JsonNode r, String host) {
    return switch (op) {
      case "CreateQueue" -> createQueue(r, host);
      case "GetQueueUrl" -> {
        String name = required(r, "QueueName");
        yield ask(name, QueueActor.GetInfo::new).thenApply(reply -> obj().put("QueueUrl", url(host, name)));
      }
      case "ListQueues" -> listQueues(r, host);
      case "DeleteQueue" -> ask(queue(r), QueueActor.DeleteQueue::new).thenApply(reply -> obj());
      case "GetQueueAttributes" -> getAttributes(r);
      case "SetQueueAttributes" -> setAttributes(r);
      case "PurgeQueue" -> ask(queue(r), QueueActor.Purge::new).thenApply(reply -> obj());
      case "SendMessage" -> send(r, false);
      case "SendMessageBatch" -> send(r, true);
      case "ReceiveMessage" -> receive(r);
      case "DeleteMessage" -> delete(r, false);
      case "DeleteMessageBatch" -> delete(r, true);
      case "ChangeMessageVisibility" -> changeVisibility(r, false);
      case "ChangeMessageVisibilityBatch" -> changeVisibility(r, true);
      case "StartMessageMoveTask" -> startMove(r);
      case "ListMessageMoveTasks" -> listMoves(r);
      case "CancelMessageMoveTask" -> cancelMove(r);
      case "ListDeadLetterSourceQueues" -> deadLetterSources(r, host);
      case "ListQueueTags" -> ask(queue(r), QueueActor.GetInfo::new).thenApply(reply -> {
        ObjectNode n = obj();
        n.putObject("Tags");
        return n;
      });
      default -> throw new SqsError("UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation", 400,
          "Operation " + op + " is not supported by Lamina queues.");
    };
  }

  // ---- queues ----------------------------------------------------------------------------------

  private CompletionStage<ObjectNode> createQueue(JsonNode r, String host) {
    String name = required(r, "QueueName");
    if (!QUEUE_NAME.matcher(name).matches()) {
      throw SqsError.invalidParameter(name.endsWith(".fifo")
          ? "Lamina queues are standard queues: FIFO queues (.fifo) are not supported."
          : "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length");
    }
    JsonNode attributes = r.get("Attributes");
    // An existing queue is answered when the attributes given (only those) have its values.
    return sharding.entityRefFor(QueueActor.TYPE_KEY, name)
        .<QueueActor.Reply>ask(QueueActor.GetInfo::new, TIMEOUT)
        .thenCompose(existing -> {
          if (existing.errorCode() == null) {
            return withAttributes(existing.attributes(), attributes).thenApply(wanted -> {
              List<String> differ = QueueActor.differences(existing.attributes(), wanted);
              if (!differ.isEmpty()) {
                throw new SqsError("QueueNameExists", "QueueAlreadyExists", 400, "A queue already exists with the "
                    + "same name and a different value for attribute " + differ.get(0));
              }
              return existing;
            });
          }
          return withAttributes(QueueAttributes.defaults(), attributes)
              .thenCompose(attrs -> ask(name, replyTo -> new QueueActor.Create(attrs, replyTo)));
        })
        .thenApply(reply -> obj().put("QueueUrl", url(host, name)));
  }

  private CompletionStage<ObjectNode> listQueues(JsonNode r, String host) {
    String prefix = text(r, "QueueNamePrefix");
    Integer max = r.hasNonNull("MaxResults") ? r.get("MaxResults").asInt() : null;
    if (max != null && (max < 1 || max > 1000)) {
      throw SqsError.invalidParameter("Value " + max + " for parameter MaxResults is invalid. Reason: Must be between "
          + "1 and 1000, if provided.");
    }
    String after = text(r, "NextToken");
    return existingQueues().thenApply(names -> {
      List<String> matching = names.stream()
          .filter(n -> prefix == null || n.startsWith(prefix))
          .filter(n -> after == null || n.compareTo(after) > 0)
          .toList();
      ObjectNode n = obj();
      int limit = max == null ? 1000 : max;
      if (!matching.isEmpty()) {
        ArrayNode urls = n.putArray("QueueUrls");
        matching.stream().limit(limit).forEach(q -> urls.add(url(host, q)));
      }
      if (max != null && matching.size() > limit) {
        n.put("NextToken", matching.get(limit - 1));
      }
      return n;
    });
  }

  /** Names of the queues that exist now, sorted. */
  public CompletionStage<List<String>> existingQueues() {
    return registry.entityIds(QueueActor.TYPE_KEY.name()).thenCompose(names -> {
      List<CompletableFuture<String>> asks = names.stream().map(n -> sharding.entityRefFor(QueueActor.TYPE_KEY, n)
          .<QueueActor.Reply>ask(QueueActor.GetInfo::new, TIMEOUT)
          .thenApply(reply -> reply.errorCode() == null ? n : null).toCompletableFuture()).toList();
      return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new))
          .thenApply(v -> asks.stream().map(f -> f.getNow(null)).filter(n -> n != null).toList());
    });
  }

  private CompletionStage<ObjectNode> getAttributes(JsonNode r) {
    String name = queue(r);
    Set<String> wanted = names(r, "AttributeNames");
    return ask(name, QueueActor.GetInfo::new).thenApply(reply -> {
      Map<String, String> all = attributeMap(name, reply);
      ObjectNode n = obj();
      ObjectNode out = n.putObject("Attributes");
      for (String w : wanted) {
        if (!w.equals("All") && !all.containsKey(w) && !OPTIONAL_ATTRIBUTES.contains(w)) {
          throw new SqsError("InvalidAttributeName", "InvalidAttributeName", 400, "Unknown Attribute " + w + ".");
        }
      }
      all.forEach((k, v) -> {
        if (wanted.contains("All") || wanted.contains(k)) {
          out.put(k, v);
        }
      });
      return n;
    });
  }

  private static final Set<String> OPTIONAL_ATTRIBUTES = Set.of("RedrivePolicy", "Policy", "RedriveAllowPolicy",
      "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds");

  private Map<String, String> attributeMap(String name, QueueActor.Reply reply) {
    QueueAttributes a = reply.attributes();
    Map<String, String> m = new LinkedHashMap<>();
    m.put("ApproximateNumberOfMessages", Integer.toString(reply.visible()));
    m.put("ApproximateNumberOfMessagesNotVisible", Integer.toString(reply.inFlight()));
    m.put("ApproximateNumberOfMessagesDelayed", Integer.toString(reply.delayed()));
    m.put("CreatedTimestamp", Long.toString(reply.createdAt() / 1000));
    m.put("DelaySeconds", Integer.toString(a.delaySeconds()));
    m.put("LastModifiedTimestamp", Long.toString(reply.modifiedAt() / 1000));
    m.put("MaximumMessageSize", Integer.toString(a.maximumMessageSize()));
    m.put("MessageRetentionPeriod", Integer.toString(a.messageRetentionSeconds()));
    m.put("QueueArn", settings.queueArnPrefix() + name);
    m.put("ReceiveMessageWaitTimeSeconds", Integer.toString(a.receiveWaitTimeSeconds()));
    m.put("VisibilityTimeout", Integer.toString(a.visibilityTimeoutSeconds()));
    m.put("SqsManagedSseEnabled", "false");
    if (a.redrivePolicy() != null) {
      m.put("RedrivePolicy", a.redrivePolicy());
    }
    return m;
  }

  private CompletionStage<ObjectNode> setAttributes(JsonNode r) {
    String name = queue(r);
    JsonNode attributes = r.get("Attributes");
    if (attributes == null || !attributes.isObject()) {
      throw SqsError.missing("Attributes");
    }
    return ask(name, QueueActor.GetInfo::new)
        .thenCompose(current -> withAttributes(current.attributes(), attributes))
        .thenCompose(attrs -> ask(name, replyTo -> new QueueActor.SetAttributes(attrs, replyTo)))
        .thenApply(reply -> obj());
  }

  /** {@code base} with the SQS attribute strings of {@code given} applied (DLQ checked to exist). */
  private CompletionStage<QueueAttributes> withAttributes(QueueAttributes base, JsonNode given) {
    if (given == null || !given.isObject()) {
      return CompletableFuture.completedFuture(base);
    }
    int visibility = base.visibilityTimeoutSeconds();
    int retention = base.messageRetentionSeconds();
    int maxSize = base.maximumMessageSize();
    int delay = base.delaySeconds();
    int wait = base.receiveWaitTimeSeconds();
    String dlq = base.deadLetterTargetArn();
    int maxReceive = base.maxReceiveCount();
    Iterator<Map.Entry<String, JsonNode>> fields = given.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> f = fields.next();
      String value = f.getValue().asText();
      switch (f.getKey()) {
        case "VisibilityTimeout" -> visibility = attributeInt(f.getKey(), value, 0, 43200);
        case "MessageRetentionPeriod" -> retention = attributeInt(f.getKey(), value, 60, 1209600);
        case "MaximumMessageSize" -> maxSize = attributeInt(f.getKey(), value, 1024, 1048576);
        case "DelaySeconds" -> delay = attributeInt(f.getKey(), value, 0, 900);
        case "ReceiveMessageWaitTimeSeconds" -> wait = attributeInt(f.getKey(), value, 0, 20);
        case "RedrivePolicy" -> {
          if (value.isEmpty()) {
            dlq = null;
            maxReceive = 0;
          } else {
            JsonNode policy = parsePolicy(value);
            JsonNode target = policy.get("deadLetterTargetArn");
            JsonNode count = policy.get("maxReceiveCount");
            if (target == null || !target.asText().startsWith("arn:")) {
              throw SqsError.invalidParameter("Value " + value + " for parameter RedrivePolicy is invalid. Reason: "
                  + "Invalid value for deadLetterTargetArn.");
            }
            int receives;
            try {
              receives = count == null ? -1 : Integer.parseInt(count.asText());
            } catch (NumberFormatException e) {
              receives = -1;
            }
            if (receives < 1 || receives > 1000) {
              throw SqsError.invalidParameter("Value " + value + " for parameter RedrivePolicy is invalid. Reason: "
                  + "Invalid value for maxReceiveCount: " + (count == null ? "null" : count.asText())
                  + ", valid values are from 1 to 1000 both inclusive.");
            }
            dlq = target.asText();
            maxReceive = receives;
          }
        }
        case "Policy", "RedriveAllowPolicy", "SqsManagedSseEnabled", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds" -> {
          // Accepted and ignored: one account, no encryption at rest of its own.
        }
        default -> throw new SqsError("InvalidAttributeName", "InvalidAttributeName", 400,
            "Unknown Attribute " + f.getKey() + ".");
      }
    }
    QueueAttributes result = new QueueAttributes(visibility, retention, maxSize, delay, wait, dlq, maxReceive);
    if (dlq == null || dlq.equals(base.deadLetterTargetArn())) {
      return CompletableFuture.completedFuture(result);
    }
    String policyText = result.redrivePolicy();
    String dlqName = dlq.startsWith(settings.queueArnPrefix()) ? dlq.substring(settings.queueArnPrefix().length()) : "";
    return (dlqName.isEmpty() ? CompletableFuture.completedFuture(false)
        : sharding.entityRefFor(QueueActor.TYPE_KEY, dlqName).<QueueActor.Reply>ask(QueueActor.GetInfo::new, TIMEOUT)
            .thenApply(reply -> reply.errorCode() == null))
        .thenApply(exists -> {
          if (!exists) {
            throw SqsError.invalidParameter("Value " + policyText + " for parameter RedrivePolicy is invalid. Reason: "
                + "Dead letter target does not exist.");
          }
          return result;
        });
  }

  private static JsonNode parsePolicy(String value) {
    try {
      JsonNode policy = FunctionJson.MAPPER.readTree(value);
      if (policy != null && policy.isObject()) {
        return policy;
      }
    } catch (IOException e) {
      // answered below
    }
    throw SqsError.invalidParameter("Value " + value + " for parameter RedrivePolicy is invalid. Reason: Redrive "
        + "policy is not a valid JSON map.");
  }

  private static int attributeInt(String name, String value, int min, int max) {
    try {
      int n = Integer.parseInt(value);
      if (n >= min && n <= max) {
        return n;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw new SqsError("InvalidAttributeValue", "InvalidAttributeValue", 400, "Invalid value for the parameter "
        + name + ".");
  }

  private CompletionStage<ObjectNode> deadLetterSources(JsonNode r, String host) {
    String name = queue(r);
    String arn = settings.queueArnPrefix() + name;
    return ask(name, QueueActor.GetInfo::new).thenCompose(self -> existingQueues()).thenCompose(names -> {
      List<CompletableFuture<String>> asks = names.stream().map(n -> sharding.entityRefFor(QueueActor.TYPE_KEY, n)
          .<QueueActor.Reply>ask(QueueActor.GetInfo::new, TIMEOUT)
          .thenApply(reply -> reply.attributes() != null && arn.equals(reply.attributes().deadLetterTargetArn())
              ? n : null).toCompletableFuture()).toList();
      return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new)).thenApply(v -> {
        ObjectNode n = obj();
        ArrayNode urls = n.putArray("queueUrls");
        asks.stream().map(f -> f.getNow(null)).filter(q -> q != null).forEach(q -> urls.add(url(host, q)));
        return n;
      });
    });
  }

  // ---- messages --------------------------------------------------------------------------------

  private CompletionStage<ObjectNode> send(JsonNode r, boolean batch) {
    String name = queue(r);
    List<QueueActor.NewMessage> messages = new ArrayList<>();
    if (batch) {
      JsonNode entries = entries(r);
      for (JsonNode e : entries) {
        messages.add(newMessage(e, required(e, "Id")));
      }
    } else {
      messages.add(newMessage(r, "0"));
    }
    return ask(name, replyTo -> new QueueActor.Send(messages, replyTo)).thenApply(reply -> {
      if (!batch) {
        if (!reply.failures().isEmpty()) {
          throw SqsError.invalidParameter(reply.failures().get(0).message());
        }
        return sent(obj(), reply.messages().get(0));
      }
      ObjectNode n = obj();
      ArrayNode ok = n.putArray("Successful");
      // Sent messages come back in entry order, failed entries left out.
      Set<String> failedIds = new HashSet<>();
      reply.failures().forEach(f -> failedIds.add(f.id()));
      Iterator<QueueMessage> sentMessages = reply.messages().iterator();
      for (QueueActor.NewMessage m : messages) {
        if (!failedIds.contains(m.entryId())) {
          ok.add(sent(obj().put("Id", m.entryId()), sentMessages.next()));
        }
      }
      failed(n, reply.failures());
      return n;
    });
  }

  private static ObjectNode sent(ObjectNode n, QueueMessage m) {
    n.put("MessageId", m.messageId());
    n.put("MD5OfMessageBody", m.md5OfBody());
    if (m.md5OfAttributes() != null) {
      n.put("MD5OfMessageAttributes", m.md5OfAttributes());
    }
    return n;
  }

  private static QueueActor.NewMessage newMessage(JsonNode r, String entryId) {
    String body = text(r, "MessageBody");
    if (body == null) {
      throw SqsError.missing("MessageBody");
    }
    if (body.isEmpty()) {
      throw SqsError.invalidParameter("The request must contain the parameter MessageBody.");
    }
    Integer delay = null;
    if (r.hasNonNull("DelaySeconds")) {
      delay = r.get("DelaySeconds").asInt();
      if (delay < 0 || delay > 900) {
        throw SqsError.invalidParameter("Value " + delay + " for parameter DelaySeconds is invalid. Reason: "
            + "DelaySeconds must be >= 0 and <= 900.");
      }
    }
    List<QueueMessage.Attribute> attributes = new ArrayList<>();
    JsonNode given = r.get("MessageAttributes");
    if (given != null && given.isObject()) {
      Iterator<Map.Entry<String, JsonNode>> it = given.fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> a = it.next();
        String type = text(a.getValue(), "DataType");
        if (type == null || !(type.startsWith("String") || type.startsWith("Number") || type.startsWith("Binary"))) {
          throw SqsError.invalidParameter("The message attribute '" + a.getKey() + "' has an invalid message "
              + "attribute type, the set of supported type prefixes is Binary, Number, and String.");
        }
        String value = type.startsWith("Binary") ? text(a.getValue(), "BinaryValue") : text(a.getValue(), "StringValue");
        if (value == null || value.isEmpty()) {
          throw SqsError.invalidParameter("Message (user) attribute '" + a.getKey() + "' must contain a non-empty "
              + "value of type '" + (type.startsWith("Binary") ? "Binary" : "String") + "'.");
        }
        attributes.add(new QueueMessage.Attribute(a.getKey(), type, value));
      }
      if (attributes.size() > 10) {
        throw SqsError.invalidParameter("Number of message attributes [" + attributes.size()
            + "] exceeds the allowed maximum [10].");
      }
    }
    return new QueueActor.NewMessage(entryId, body, attributes, delay, null);
  }

  private CompletionStage<ObjectNode> receive(JsonNode r) {
    String name = queue(r);
    int max = r.hasNonNull("MaxNumberOfMessages") ? r.get("MaxNumberOfMessages").asInt() : 1;
    if (max < 1 || max > 10) {
      throw SqsError.invalidParameter("Value " + max + " for parameter MaxNumberOfMessages is invalid. Reason: Must "
          + "be between 1 and 10, if provided.");
    }
    Integer visibility = r.hasNonNull("VisibilityTimeout") ? r.get("VisibilityTimeout").asInt() : null;
    if (visibility != null && (visibility < 0 || visibility > 43200)) {
      throw SqsError.invalidParameter("Value " + visibility + " for parameter VisibilityTimeout is invalid. Reason: "
          + "Must be between 0 and 43200, if provided.");
    }
    Integer wait = r.hasNonNull("WaitTimeSeconds") ? r.get("WaitTimeSeconds").asInt() : null;
    if (wait != null && (wait < 0 || wait > 20)) {
      throw SqsError.invalidParameter("Value " + wait + " for parameter WaitTimeSeconds is invalid. Reason: Must be "
          + ">= 0 and <= 20, if provided.");
    }
    Set<String> system = names(r, "AttributeNames");
    system.addAll(names(r, "MessageSystemAttributeNames"));
    Set<String> userAttributes = names(r, "MessageAttributeNames");
    CompletionStage<Integer> waitSeconds = wait != null ? CompletableFuture.completedFuture(wait)
        : ask(name, QueueActor.GetInfo::new).thenApply(info -> info.attributes().receiveWaitTimeSeconds());
    return waitSeconds.thenCompose(w -> sharding.entityRefFor(QueueActor.TYPE_KEY, name)
        .<QueueActor.Reply>ask(replyTo -> new QueueActor.Receive(max, visibility, w * 1000L, replyTo),
            TIMEOUT.plusSeconds(w)))
        .thenApply(reply -> {
          failIfError(reply);
          ObjectNode n = obj();
          ArrayNode list = n.putArray("Messages");
          for (QueueMessage m : reply.messages()) {
            list.add(message(m, system, userAttributes));
          }
          return n;
        });
  }

  private ObjectNode message(QueueMessage m, Set<String> system, Set<String> user) {
    ObjectNode n = obj();
    n.put("MessageId", m.messageId());
    n.put("ReceiptHandle", m.receiptHandle());
    n.put("MD5OfBody", m.md5OfBody());
    n.put("Body", m.body());
    if (!system.isEmpty()) {
      Map<String, String> all = new LinkedHashMap<>();
      all.put("SenderId", settings.accountId());
      all.put("SentTimestamp", Long.toString(m.sentAt()));
      all.put("ApproximateReceiveCount", Integer.toString(m.receiveCount()));
      all.put("ApproximateFirstReceiveTimestamp", Long.toString(m.firstReceivedAt()));
      if (m.sourceArn() != null && m.sourceArn().startsWith(settings.queueArnPrefix())) {
        all.put("DeadLetterQueueSourceArn", m.sourceArn());
      }
      ObjectNode attributes = n.putObject("Attributes");
      all.forEach((k, v) -> {
        if (system.contains("All") || system.contains(k)) {
          attributes.put(k, v);
        }
      });
    }
    List<QueueMessage.Attribute> returned = m.attributes().stream().filter(a -> wanted(user, a.name())).toList();
    if (!returned.isEmpty()) {
      n.put("MD5OfMessageAttributes", QueueMessage.md5OfAttributes(returned));
      ObjectNode attributes = n.putObject("MessageAttributes");
      for (QueueMessage.Attribute a : returned) {
        ObjectNode v = attributes.putObject(a.name());
        v.put("DataType", a.dataType());
        v.put(a.binary() ? "BinaryValue" : "StringValue", a.value());
      }
    }
    return n;
  }

  private static boolean wanted(Set<String> names, String name) {
    for (String w : names) {
      if (w.equals("All") || w.equals(".*") || w.equals(name)
          || (w.endsWith(".*") && name.startsWith(w.substring(0, w.length() - 1)))) {
        return true;
      }
    }
    return false;
  }

  private CompletionStage<ObjectNode> delete(JsonNode r, boolean batch) {
    String name = queue(r);
    List<QueueActor.Entry> entries = new ArrayList<>();
    if (batch) {
      for (JsonNode e : entries(r)) {
        entries.add(new QueueActor.Entry(required(e, "Id"), required(e, "ReceiptHandle"), 0));
      }
    } else {
      entries.add(new QueueActor.Entry("0", required(r, "ReceiptHandle"), 0));
    }
    return ask(name, replyTo -> new QueueActor.DeleteMessages(entries, replyTo))
        .thenApply(reply -> batchResult(entries, reply, batch));
  }

  private CompletionStage<ObjectNode> changeVisibility(JsonNode r, boolean batch) {
    String name = queue(r);
    List<QueueActor.Entry> entries = new ArrayList<>();
    if (batch) {
      for (JsonNode e : entries(r)) {
        entries.add(new QueueActor.Entry(required(e, "Id"), required(e, "ReceiptHandle"), visibility(e)));
      }
    } else {
      entries.add(new QueueActor.Entry("0", required(r, "ReceiptHandle"), visibility(r)));
    }
    return ask(name, replyTo -> new QueueActor.ChangeVisibility(entries, replyTo))
        .thenApply(reply -> batchResult(entries, reply, batch));
  }

  private static int visibility(JsonNode r) {
    if (!r.hasNonNull("VisibilityTimeout")) {
      throw SqsError.missing("VisibilityTimeout");
    }
    int v = r.get("VisibilityTimeout").asInt();
    if (v < 0 || v > 43200) {
      throw SqsError.invalidParameter("Value " + v + " for parameter VisibilityTimeout is invalid. Reason: Must be "
          + "between 0 and 43200, if provided.");
    }
    return v;
  }

  private static ObjectNode batchResult(List<QueueActor.Entry> entries, QueueActor.Reply reply, boolean batch) {
    if (!batch) {
      if (!reply.failures().isEmpty()) {
        QueueActor.Failure f = reply.failures().get(0);
        throw f.code().equals("ReceiptHandleIsInvalid")
            ? new SqsError("ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", 404, f.message())
            : new SqsError("MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight", 400, f.message());
      }
      return obj();
    }
    ObjectNode n = obj();
    ArrayNode ok = n.putArray("Successful");
    Set<String> failedIds = new HashSet<>();
    reply.failures().forEach(f -> failedIds.add(f.id()));
    entries.stream().filter(e -> !failedIds.contains(e.id())).forEach(e -> ok.add(obj().put("Id", e.id())));
    failed(n, reply.failures());
    return n;
  }

  private static void failed(ObjectNode n, List<QueueActor.Failure> failures) {
    ArrayNode failed = n.putArray("Failed");
    failures.forEach(f -> failed.add(obj().put("Id", f.id()).put("SenderFault", true).put("Code", f.code())
        .put("Message", f.message())));
  }

  // ---- move tasks (redrive) --------------------------------------------------------------------

  private CompletionStage<ObjectNode> startMove(JsonNode r) {
    String source = required(r, "SourceArn");
    String destination = text(r, "DestinationArn");
    String sourceName = queueOfArn(source, "SourceArn");
    if (destination != null && destination.startsWith(settings.queueArnPrefix())) {
      String destinationName = queueOfArn(destination, "DestinationArn");
      return ask(destinationName, QueueActor.GetInfo::new, "DestinationArn")
          .thenCompose(ok -> startMove(sourceName, destination));
    }
    if (destination != null && !destination.startsWith(settings.functionArnPrefix())) {
      throw resourceNotFound("DestinationArn");
    }
    return startMove(sourceName, destination);
  }

  private CompletionStage<ObjectNode> startMove(String source, String destination) {
    String sourceArn = settings.queueArnPrefix() + source;
    return ask(source, QueueActor.GetInfo::new, "SourceArn")
        .thenCompose(info -> isDeadLetterQueue(sourceArn))
        .thenCompose(dlq -> ask(source, replyTo -> new QueueActor.StartMove(destination, dlq, replyTo), "SourceArn"))
        .thenApply(reply -> obj().put("TaskHandle", reply.moves().get(0).taskHandle()));
  }

  /** Whether another queue names {@code arn} as its dead-letter target. */
  private CompletionStage<Boolean> isDeadLetterQueue(String arn) {
    return existingQueues().thenCompose(names -> {
      List<CompletableFuture<Boolean>> asks = names.stream().map(n -> sharding.entityRefFor(QueueActor.TYPE_KEY, n)
          .<QueueActor.Reply>ask(QueueActor.GetInfo::new, TIMEOUT)
          .thenApply(reply -> reply.attributes() != null && arn.equals(reply.attributes().deadLetterTargetArn()))
          .toCompletableFuture()).toList();
      return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new))
          .thenApply(v -> asks.stream().anyMatch(f -> f.getNow(false)));
    });
  }

  private CompletionStage<ObjectNode> listMoves(JsonNode r) {
    String source = queueOfArn(required(r, "SourceArn"), "SourceArn");
    int max = r.hasNonNull("MaxResults") ? r.get("MaxResults").asInt() : 1;
    return ask(source, QueueActor.ListMoves::new, "SourceArn").thenApply(reply -> {
      ObjectNode n = obj();
      ArrayNode results = n.putArray("Results");
      reply.moves().stream().limit(Math.max(1, Math.min(max, 10))).forEach(t -> {
        ObjectNode e = results.addObject();
        if (t.status().equals("RUNNING")) {
          e.put("TaskHandle", t.taskHandle());
        }
        e.put("Status", t.status());
        e.put("SourceArn", t.sourceArn());
        if (t.destinationArn() != null) {
          e.put("DestinationArn", t.destinationArn());
        }
        e.put("ApproximateNumberOfMessagesMoved", t.moved());
        e.put("ApproximateNumberOfMessagesToMove", t.toMove());
        if (t.failureReason() != null) {
          e.put("FailureReason", t.failureReason());
        }
        e.put("StartedTimestamp", t.startedAt());
      });
      return n;
    });
  }

  private CompletionStage<ObjectNode> cancelMove(JsonNode r) {
    String handle = required(r, "TaskHandle");
    String source;
    try {
      String decoded = new String(java.util.Base64.getUrlDecoder().decode(handle), java.nio.charset.StandardCharsets.UTF_8);
      source = queueOfArn(decoded.substring(0, decoded.indexOf('|')), "TaskHandle");
    } catch (RuntimeException e) {
      throw SqsError.invalidParameter("Value " + handle + " for parameter TaskHandle is invalid.");
    }
    return ask(source, replyTo -> new QueueActor.CancelMove(handle, replyTo))
        .thenApply(reply -> obj().put("ApproximateNumberOfMessagesMoved", reply.moves().get(0).moved()));
  }

  private String queueOfArn(String arn, String parameter) {
    if (!arn.startsWith(settings.queueArnPrefix())) {
      throw resourceNotFound(parameter);
    }
    return arn.substring(settings.queueArnPrefix().length());
  }

  private static SqsError resourceNotFound(String parameter) {
    return new SqsError("ResourceNotFoundException", "ResourceNotFoundException", 404,
        "The resource that you specified for the " + parameter + " parameter doesn't exist.");
  }

  // ---- helpers ---------------------------------------------------------------------------------

  private CompletionStage<QueueActor.Reply> ask(String queue,
      Function<ActorRef<QueueActor.Reply>, QueueActor.Command> command) {
    return ask(queue, command, null);
  }

  /** Asks the queue; its errors become SQS errors ({@code arnParameter}: a missing queue is a ResourceNotFound). */
  private CompletionStage<QueueActor.Reply> ask(String queue,
      Function<ActorRef<QueueActor.Reply>, QueueActor.Command> command, String arnParameter) {
    if (!QUEUE_NAME.matcher(queue).matches()) {
      return CompletableFuture.failedFuture(arnParameter != null ? resourceNotFound(arnParameter) : noQueue());
    }
    return sharding.entityRefFor(QueueActor.TYPE_KEY, queue).<QueueActor.Reply>ask(command::apply, TIMEOUT)
        .thenApply(reply -> {
          if (reply.errorCode() != null && reply.errorCode().equals("QueueDoesNotExist") && arnParameter != null) {
            throw resourceNotFound(arnParameter);
          }
          return failIfError(reply);
        });
  }

  private static QueueActor.Reply failIfError(QueueActor.Reply reply) {
    if (reply.errorCode() == null) {
      return reply;
    }
    throw switch (reply.errorCode()) {
      case "QueueDoesNotExist" -> noQueue();
      case "QueueNameExists" -> new SqsError("QueueNameExists", "QueueAlreadyExists", 400, reply.errorMessage());
      case "ResourceNotFoundException" -> new SqsError("ResourceNotFoundException", "ResourceNotFoundException", 404,
          reply.errorMessage());
      case "InternalError" -> new SqsError("InternalError", "InternalError", 500, reply.errorMessage());
      default -> SqsError.invalidParameter(reply.errorMessage());
    };
  }

  private static SqsError noQueue() {
    return new SqsError("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", 400,
        "The specified queue does not exist.");
  }

  /** The queue name of the request's {@code QueueUrl} (a URL ending in the name, or the name itself). */
  private static String queue(JsonNode r) {
    String url = required(r, "QueueUrl");
    String trimmed = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    return trimmed.substring(trimmed.lastIndexOf('/') + 1);
  }

  private String url(String host, String name) {
    return "http://" + host + "/" + settings.accountId() + "/" + name;
  }

  private static JsonNode entries(JsonNode r) {
    JsonNode entries = r.get("Entries");
    if (entries == null || !entries.isArray()) {
      throw SqsError.missing("Entries");
    }
    if (entries.isEmpty()) {
      throw new SqsError("EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest", 400,
          "There should be at least one entry in the request.");
    }
    if (entries.size() > 10) {
      throw new SqsError("TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400,
          "Maximum number of entries per request are 10. You have sent " + entries.size() + ".");
    }
    Set<String> ids = new HashSet<>();
    for (JsonNode e : entries) {
      String id = text(e, "Id");
      if (id == null || !ENTRY_ID.matcher(id).matches()) {
        throw new SqsError("InvalidBatchEntryId", "AWS.SimpleQueueService.InvalidBatchEntryId", 400,
            "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most "
                + "80 letters long.");
      }
      if (!ids.add(id)) {
        throw new SqsError("BatchEntryIdsNotDistinct", "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400,
            "Id " + id + " repeated.");
      }
    }
    return entries;
  }

  private static Set<String> names(JsonNode r, String member) {
    Set<String> names = new HashSet<>();
    JsonNode list = r.get(member);
    if (list != null && list.isArray()) {
      list.forEach(n -> names.add(n.asText()));
    }
    return names;
  }

  private static String required(JsonNode r, String member) {
    String v = text(r, member);
    if (v == null || v.isEmpty()) {
      throw SqsError.missing(member);
    }
    return v;
  }

  private static String text(JsonNode r, String member) {
    JsonNode v = r.get(member);
    return v == null || v.isNull() ? null : v.asText();
  }

  private static JsonNode parse(ByteString body) {
    if (body.isEmpty()) {
      return obj();
    }
    try {
      JsonNode node = FunctionJson.MAPPER.readTree(body.toArrayUnsafe());
      if (node != null && node.isObject()) {
        return node;
      }
    } catch (IOException e) {
      // answered below
    }
    throw new SqsError("InvalidParameterValueException", "InvalidParameterValue", 400,
        "The request body is not a valid JSON object.");
  }

  private static ObjectNode obj() {
    return FunctionJson.MAPPER.createObjectNode();
  }

  private static HttpResponse json(int status, ObjectNode body) {
    return HttpResponse.create().withStatus(status).withEntity(HttpEntities.create(AMZ_JSON, ByteString.fromString(body.toString())));
  }

  private static HttpResponse error(Throwable failure) {
    Throwable cause = failure;
    while (cause instanceof CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    SqsError e = cause instanceof SqsError s ? s
        : new SqsError("InternalError", "InternalError", 500, "We encountered an internal error. Please try again.");
    if (!(cause instanceof SqsError)) {
      org.slf4j.LoggerFactory.getLogger(SqsApi.class).error("SQS request failed", cause);
    }
    return errorResponse("com.amazonaws.sqs#" + e.shape, e.queryCode, e.status, e.getMessage());
  }

  /**
   * An error of AWS's shared front door rather than of SQS's model (authentication:
   * {@code com.amazon.coral.service#<shape>}), in the shape SQS answers JSON-protocol clients with.
   */
  static HttpResponse frontDoorError(String shape, String queryCode, int status, String message) {
    return errorResponse("com.amazon.coral.service#" + shape, queryCode, status, message);
  }

  private static HttpResponse errorResponse(String type, String queryCode, int status, String message) {
    ObjectNode body = obj().put("__type", type).put("message", message);
    return json(status, body).addHeader(RawHeader.create("x-amzn-query-error", queryCode + ";"
        + (status >= 500 ? "Receiver" : "Sender")));
  }
}
