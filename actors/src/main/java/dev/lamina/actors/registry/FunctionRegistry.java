package dev.lamina.actors.registry;

import dev.lamina.actors.CborSerializable;
import dev.lamina.actors.LambdaError;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;

/**
 * The control-plane state of one function (entity id = function name), event-sourced: its
 * {@code $LATEST} configuration, its published versions and its aliases.
 *
 * <p>Contract: the API layer validates the syntax of requests and sends fully formed values; this
 * entity owns existence, version numbers, {@code RevisionId} and {@code CodeSha256}
 * preconditions, the rules that tie aliases to versions, {@code LastModified} and revisions.
 * Published versions are immutable. Every persisted change is announced on the
 * {@code function-changes} topic so that caches on every node drop their copies. Nothing is lost
 * on rebalance: the state is the journal.
 *
 * <p>States: absent (never created, or deleted: versions then start again at 1) and present.
 */
public final class FunctionRegistry
    extends EventSourcedBehavior<FunctionRegistry.Command, FunctionRegistry.Event, FunctionRegistry.State> {

  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "FunctionRegistry");

  public sealed interface Command extends CborSerializable
      permits Create, Get, Update, Delete, Publish, ListVersions, CreateAlias, UpdateAlias, GetAlias, DeleteAlias,
          ListAliases, PutProvisioned, DeleteProvisioned, GetProvisioned, PutEventConfig, GetEventConfig,
          DeleteEventConfig, ListEventConfigs {}

  /**
   * Creates the function; {@code lastModified} and {@code revisionId} of {@code config} are
   * replaced. With {@code publish}, version 1 is published at once and is the reply.
   */
  public record Create(FunctionConfig config, boolean publish, ActorRef<Reply> replyTo) implements Command {}

  /**
   * One version: {@code qualifier} null or {@code $LATEST}, a version number, or an alias (the
   * reply then carries the alias, its version and its additional version, if any).
   */
  public record Get(String qualifier, ActorRef<Reply> replyTo) implements Command {}

  /**
   * Replaces the {@code $LATEST} configuration. {@code basedOnRevision} is the revision the caller
   * derived {@code config} from (a concurrent change makes this a conflict); {@code expectedRevision}
   * is the user's {@code RevisionId} precondition, or null. With {@code publish}, a version is
   * published from the result and is the reply.
   */
  public record Update(FunctionConfig config, String basedOnRevision, String expectedRevision, boolean publish,
      ActorRef<Reply> replyTo) implements Command {}

  /**
   * Deletes the function with all versions and aliases ({@code qualifier} null), or one published
   * version. The reply lists the configurations that are gone.
   */
  public record Delete(String qualifier, ActorRef<Reply> replyTo) implements Command {}

  /**
   * PublishVersion: {@code codeSha256} (base64, as the user gave it) and {@code expectedRevision}
   * are the user's preconditions (null when not given), {@code description} overrides the
   * version's description.
   */
  public record Publish(String codeSha256, String description, String expectedRevision, ActorRef<Reply> replyTo)
      implements Command {}

  /** {@code $LATEST} first, then the published versions in ascending order. */
  public record ListVersions(ActorRef<Reply> replyTo) implements Command {}

  /** Creates an alias; its {@code revisionId} is replaced. */
  public record CreateAlias(AliasConfig alias, ActorRef<Reply> replyTo) implements Command {}

  /**
   * Changes an alias; null members keep their current value ({@code weights} empty removes the
   * routing configuration).
   */
  public record UpdateAlias(String name, String functionVersion, String description, Map<String, Double> weights,
      String expectedRevision, ActorRef<Reply> replyTo) implements Command {}

  public record GetAlias(String name, ActorRef<Reply> replyTo) implements Command {}

  public record DeleteAlias(String name, ActorRef<Reply> replyTo) implements Command {}

  /** Aliases sorted by name; with {@code functionVersion}, only those routing to it. */
  public record ListAliases(String functionVersion, ActorRef<Reply> replyTo) implements Command {}

  /**
   * PutProvisionedConcurrencyConfig for a published version or an alias ({@code $LATEST} is
   * refused before this). The reply carries the plan: what each version must keep provisioned.
   */
  public record PutProvisioned(String qualifier, int requested, ActorRef<Reply> replyTo) implements Command {}

  /** Removes one qualifier's provisioned concurrency (none there: not an error); replies with the plan. */
  public record DeleteProvisioned(String qualifier, ActorRef<Reply> replyTo) implements Command {}

  /** The provisioned concurrency configs and the plan they make. */
  public record GetProvisioned(ActorRef<Reply> replyTo) implements Command {}

  /**
   * Put (replace) or, with {@code update}, merge into the event invoke config of
   * {@code config.qualifier()} ({@code $LATEST}, a version or an alias). Update needs an existing
   * config. The reply carries the stored config.
   */
  public record PutEventConfig(EventInvokeConfig config, boolean update, ActorRef<Reply> replyTo)
      implements Command {}

  /** The event invoke config of one qualifier; ResourceNotFoundException when there is none. */
  public record GetEventConfig(String qualifier, ActorRef<Reply> replyTo) implements Command {}

  public record DeleteEventConfig(String qualifier, ActorRef<Reply> replyTo) implements Command {}

  /** Every event invoke config of the function, by qualifier. */
  public record ListEventConfigs(ActorRef<Reply> replyTo) implements Command {}

  /** A version and how many sandboxes of it must be kept provisioned. */
  public record Target(FunctionConfig version, int target, String qualifier) implements CborSerializable {}

  /**
   * What the entity answers: a configuration (with the alias that led to it and the alias's
   * additional version), a list, or an error (code = a {@link LambdaError.Code} name).
   * {@code provisioned} and {@code targets}: the provisioned concurrency configs and, per config
   * and version, the sandboxes to keep ready (an alias's share split by its routing weights).
   */
  public record Reply(FunctionConfig config, AliasConfig alias, FunctionConfig additional,
      List<FunctionConfig> versions, List<AliasConfig> aliases, List<ProvisionedConfig> provisioned,
      List<Target> targets, List<EventInvokeConfig> eventConfigs, String errorCode, String errorMessage)
      implements CborSerializable {

    public static Reply ok(FunctionConfig config) {
      return new Reply(config, null, null, List.of(), List.of(), List.of(), List.of(), List.of(), null, null);
    }

    static Reply viaAlias(FunctionConfig config, AliasConfig alias, FunctionConfig additional) {
      return new Reply(config, alias, additional, List.of(), List.of(), List.of(), List.of(), List.of(), null, null);
    }

    static Reply ofVersions(List<FunctionConfig> versions) {
      return new Reply(null, null, null, versions, List.of(), List.of(), List.of(), List.of(), null, null);
    }

    static Reply ofAlias(AliasConfig alias) {
      return new Reply(null, alias, null, List.of(), List.of(), List.of(), List.of(), List.of(), null, null);
    }

    static Reply ofAliases(List<AliasConfig> aliases) {
      return new Reply(null, null, null, List.of(), aliases, List.of(), List.of(), List.of(), null, null);
    }

    static Reply ofProvisioning(List<ProvisionedConfig> provisioned, List<Target> targets) {
      return new Reply(null, null, null, List.of(), List.of(), provisioned, targets, List.of(), null, null);
    }

    public static Reply error(LambdaError.Code code, String message) {
      return new Reply(null, null, null, List.of(), List.of(), List.of(), List.of(), List.of(), code.name(), message);
    }

    public Reply {
      versions = versions == null ? List.of() : versions;
      aliases = aliases == null ? List.of() : aliases;
      provisioned = provisioned == null ? List.of() : provisioned;
      targets = targets == null ? List.of() : targets;
      eventConfigs = eventConfigs == null ? List.of() : eventConfigs;
    }

    static Reply ofEventConfigs(List<EventInvokeConfig> configs) {
      return new Reply(null, null, null, List.of(), List.of(), List.of(), List.of(), configs, null, null);
    }

    /** The same reply carrying the event invoke config of the qualifier asked for (if any). */
    Reply withEventConfig(EventInvokeConfig config) {
      return config == null ? this : new Reply(config(), alias(), additional(), versions(), aliases(), provisioned(),
          targets(), List.of(config), errorCode(), errorMessage());
    }

    /** This reply, or its error thrown as a {@link LambdaError}. */
    public Reply orThrow() {
      if (errorCode != null) {
        throw new LambdaError(LambdaError.Code.valueOf(errorCode), errorMessage);
      }
      return this;
    }

    /** The configuration, or the error thrown as a {@link LambdaError}. */
    public FunctionConfig configOrThrow() {
      return orThrow().config();
    }
  }

  public sealed interface Event extends CborSerializable
      permits Created, Updated, Deleted, VersionPublished, VersionDeleted, AliasPut, AliasDeleted, ProvisionedSet,
          ProvisionedRemoved, EventConfigSet, EventConfigRemoved {}

  public record Created(FunctionConfig config) implements Event {}

  public record Updated(FunctionConfig config) implements Event {}

  public record Deleted(String name) implements Event {}

  /** {@code source} is the {@code $LATEST} configuration it was published from. */
  public record VersionPublished(FunctionConfig version, FunctionConfig source) implements Event {}

  public record VersionDeleted(String version) implements Event {}

  public record AliasPut(AliasConfig alias) implements Event {}

  public record AliasDeleted(String name) implements Event {}

  public record ProvisionedSet(ProvisionedConfig config) implements Event {}

  public record ProvisionedRemoved(String qualifier) implements Event {}

  public record EventConfigSet(EventInvokeConfig config) implements Event {}

  public record EventConfigRemoved(String qualifier) implements Event {}

  /**
   * {@code latest} is null while the function does not exist. {@code lastVersion} is the highest
   * number ever published (numbers are never reused while the function exists);
   * {@code publishedFrom} is the {@code $LATEST} configuration that version was published from.
   */
  public record State(FunctionConfig latest, SortedMap<Integer, FunctionConfig> versions,
      SortedMap<String, AliasConfig> aliases, int lastVersion, FunctionConfig publishedFrom,
      SortedMap<String, ProvisionedConfig> provisioned, SortedMap<String, EventInvokeConfig> eventConfigs) {

    State(FunctionConfig latest, SortedMap<Integer, FunctionConfig> versions, SortedMap<String, AliasConfig> aliases,
        int lastVersion, FunctionConfig publishedFrom) {
      this(latest, versions, aliases, lastVersion, publishedFrom, Collections.emptySortedMap(),
          Collections.emptySortedMap());
    }

    State(FunctionConfig latest, SortedMap<Integer, FunctionConfig> versions, SortedMap<String, AliasConfig> aliases,
        int lastVersion, FunctionConfig publishedFrom, SortedMap<String, ProvisionedConfig> provisioned) {
      this(latest, versions, aliases, lastVersion, publishedFrom, provisioned, Collections.emptySortedMap());
    }

    /** Keeps the event invoke configs while the rest changes. */
    private State keeping(State next) {
      return new State(next.latest, next.versions, next.aliases, next.lastVersion, next.publishedFrom,
          next.provisioned, eventConfigs);
    }

    State withEventConfig(EventInvokeConfig config) {
      TreeMap<String, EventInvokeConfig> e = new TreeMap<>(eventConfigs);
      e.put(config.qualifier(), config);
      return new State(latest, versions, aliases, lastVersion, publishedFrom, provisioned,
          Collections.unmodifiableSortedMap(e));
    }

    State withoutEventConfig(String qualifier) {
      TreeMap<String, EventInvokeConfig> e = new TreeMap<>(eventConfigs);
      e.remove(qualifier);
      return new State(latest, versions, aliases, lastVersion, publishedFrom, provisioned,
          Collections.unmodifiableSortedMap(e));
    }

    static State empty() {
      return new State(null, Collections.emptySortedMap(), Collections.emptySortedMap(), 0, null);
    }

    State withLatest(FunctionConfig config) {
      return keeping(new State(config, versions, aliases, lastVersion, publishedFrom, provisioned));
    }

    State withProvisioned(ProvisionedConfig config) {
      TreeMap<String, ProvisionedConfig> p = new TreeMap<>(provisioned);
      p.put(config.qualifier(), config);
      return keeping(new State(latest, versions, aliases, lastVersion, publishedFrom,
          Collections.unmodifiableSortedMap(p)));
    }

    State withoutProvisioned(String qualifier) {
      TreeMap<String, ProvisionedConfig> p = new TreeMap<>(provisioned);
      p.remove(qualifier);
      return keeping(new State(latest, versions, aliases, lastVersion, publishedFrom,
          Collections.unmodifiableSortedMap(p)));
    }

    /** Per config and version, the sandboxes to keep provisioned (an alias split by its weights). */
    List<Target> targets() {
      List<Target> out = new ArrayList<>();
      for (ProvisionedConfig p : provisioned.values()) {
        FunctionConfig version = version(p.qualifier());
        AliasConfig alias = aliases.get(p.qualifier());
        if (version != null) {
          out.add(new Target(version, p.requested(), p.qualifier()));
        } else if (alias != null) {
          int toAdditional = 0;
          for (Map.Entry<String, Double> w : alias.additionalVersionWeights().entrySet()) {
            FunctionConfig extra = version(w.getKey());
            toAdditional = (int) Math.round(p.requested() * w.getValue());
            if (extra != null && toAdditional > 0) {
              out.add(new Target(extra, toAdditional, p.qualifier()));
            }
          }
          FunctionConfig main = version(alias.functionVersion());
          if (main != null && p.requested() - toAdditional > 0) {
            out.add(new Target(main, p.requested() - toAdditional, p.qualifier()));
          }
        }
      }
      return List.copyOf(out);
    }

    State withVersion(FunctionConfig version, FunctionConfig source) {
      TreeMap<Integer, FunctionConfig> v = new TreeMap<>(versions);
      int number = Integer.parseInt(version.version());
      v.put(number, version);
      return keeping(new State(latest, Collections.unmodifiableSortedMap(v), aliases, Math.max(lastVersion, number),
          source, provisioned));
    }

    State withoutVersion(String version) {
      TreeMap<Integer, FunctionConfig> v = new TreeMap<>(versions);
      v.remove(Integer.parseInt(version));
      return keeping(new State(latest, Collections.unmodifiableSortedMap(v), aliases, lastVersion, publishedFrom,
          provisioned)).withoutProvisioned(version).withoutEventConfig(version);
    }

    State withAlias(AliasConfig alias) {
      TreeMap<String, AliasConfig> a = new TreeMap<>(aliases);
      a.put(alias.name(), alias);
      return keeping(new State(latest, versions, Collections.unmodifiableSortedMap(a), lastVersion, publishedFrom,
          provisioned));
    }

    State withoutAlias(String name) {
      TreeMap<String, AliasConfig> a = new TreeMap<>(aliases);
      a.remove(name);
      return keeping(new State(latest, versions, Collections.unmodifiableSortedMap(a), lastVersion, publishedFrom,
          provisioned)).withoutProvisioned(name).withoutEventConfig(name);
    }

    /** {@code $LATEST} or a published version, or null. */
    FunctionConfig version(String qualifier) {
      if (qualifier == null || FunctionConfig.LATEST.equals(qualifier)) {
        return latest;
      }
      if (!isNumber(qualifier) || qualifier.startsWith("0")) {
        return null;  // versions are written without leading zeros: "01" names no version
      }
      try {
        return versions.get(Integer.parseInt(qualifier));
      } catch (NumberFormatException e) {
        return null;
      }
    }

    /** True when publishing now would give nothing new: the last version came from this $LATEST. */
    boolean latestIsPublished() {
      return publishedFrom != null && versions.containsKey(lastVersion) && latest.sameContentAs(publishedFrom);
    }
  }

  /** Lambda's message for a {@code RevisionId} precondition that does not hold. */
  public static final String REVISION_MISMATCH = "The Revision Id provided does not match the latest Revision Id. "
      + "Call the GetFunction/GetAlias API to retrieve the latest Revision Id";

  /** Published after every persisted change of a function. */
  public record FunctionChanged(String name) implements CborSerializable {}

  private static final DateTimeFormatter LAST_MODIFIED =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSZ").withZone(ZoneOffset.UTC);

  private final String name;
  private final String arn;
  private final Clock clock;
  private final ActorRef<Topic.Command<FunctionChanged>> changes;

  private FunctionRegistry(String name, String arnPrefix, Clock clock, ActorRef<Topic.Command<FunctionChanged>> changes) {
    super(PersistenceId.of(TYPE_KEY.name(), name));
    this.name = name;
    this.arn = arnPrefix + name;
    this.clock = clock;
    this.changes = changes;
  }

  public static Behavior<Command> create(
      String name, String arnPrefix, Clock clock, ActorRef<Topic.Command<FunctionChanged>> changes) {
    return Behaviors.setup(ctx -> new FunctionRegistry(name, arnPrefix, clock, changes));
  }

  /** Starts the sharded registry on this node. {@code arnPrefix} is {@code arn:aws:lambda:<region>:<account>:function:}. */
  public static void initSharding(
      ActorSystem<?> system, String arnPrefix, Clock clock, ActorRef<Topic.Command<FunctionChanged>> changes) {
    ClusterSharding.get(system).init(Entity.of(TYPE_KEY,
        ctx -> create(ctx.getEntityId(), arnPrefix, clock, changes)));
  }

  /** Lambda's {@code LastModified} string for an instant. */
  public static String lastModified(Clock clock) {
    return LAST_MODIFIED.format(clock.instant());
  }

  static boolean isNumber(String s) {
    return !s.isEmpty() && s.chars().allMatch(c -> c >= '0' && c <= '9');
  }

  @Override
  public State emptyState() {
    return State.empty();
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    return newCommandHandlerBuilder().forAnyState()
        .onCommand(Create.class, this::onCreate)
        .onCommand(Get.class, this::onGet)
        .onCommand(Update.class, this::onUpdate)
        .onCommand(Delete.class, this::onDelete)
        .onCommand(Publish.class, this::onPublish)
        .onCommand(ListVersions.class, this::onListVersions)
        .onCommand(CreateAlias.class, this::onCreateAlias)
        .onCommand(UpdateAlias.class, this::onUpdateAlias)
        .onCommand(GetAlias.class, this::onGetAlias)
        .onCommand(DeleteAlias.class, this::onDeleteAlias)
        .onCommand(ListAliases.class, this::onListAliases)
        .onCommand(PutProvisioned.class, this::onPutProvisioned)
        .onCommand(DeleteProvisioned.class, (state, cmd) -> {
          if (state.latest() == null) {
            return Effect().reply(cmd.replyTo(), functionNotFound(null));
          }
          if (!state.provisioned().containsKey(cmd.qualifier())) {
            return Effect().reply(cmd.replyTo(), Reply.ofProvisioning(List.copyOf(state.provisioned().values()),
                state.targets()));
          }
          return Effect().persist(new ProvisionedRemoved(cmd.qualifier())).thenRun(s -> announce())
              .thenReply(cmd.replyTo(), s -> Reply.ofProvisioning(List.copyOf(s.provisioned().values()), s.targets()));
        })
        .onCommand(PutEventConfig.class, this::onPutEventConfig)
        .onCommand(GetEventConfig.class, this::onGetEventConfig)
        .onCommand(DeleteEventConfig.class, this::onDeleteEventConfig)
        .onCommand(ListEventConfigs.class, (state, cmd) -> Effect().reply(cmd.replyTo(), state.latest() == null
            ? functionNotFound(null) : Reply.ofEventConfigs(List.copyOf(state.eventConfigs().values()))))
        .onCommand(GetProvisioned.class, (state, cmd) -> Effect().reply(cmd.replyTo(), state.latest() == null
            ? functionNotFound(null)
            : Reply.ofProvisioning(List.copyOf(state.provisioned().values()), state.targets())))
        .build();
  }

  // ---- the function and its versions -------------------------------------------------------

  private ReplyEffect<Event, State> onCreate(State state, Create cmd) {
    if (state.latest() != null) {
      return Effect().reply(cmd.replyTo(),
          Reply.error(LambdaError.Code.ResourceConflictException, "Function already exist: " + name));
    }
    FunctionConfig config = stamped(cmd.config());
    List<Event> events = new ArrayList<>(List.of(new Created(config)));
    if (cmd.publish()) {
      events.add(publishEvent(state.withLatest(config), null));
    }
    return Effect().persist(events)
        .thenRun(s -> announce())
        .thenReply(cmd.replyTo(), s -> Reply.ok(cmd.publish() ? s.versions().get(s.lastVersion()) : s.latest()));
  }

  private ReplyEffect<Event, State> onGet(State state, Get cmd) {
    if (state.latest() == null) {
      return Effect().reply(cmd.replyTo(), functionNotFound(cmd.qualifier()));
    }
    String qualifier = cmd.qualifier();
    if (qualifier == null || FunctionConfig.LATEST.equals(qualifier) || isNumber(qualifier)) {
      FunctionConfig config = state.version(qualifier);
      return Effect().reply(cmd.replyTo(), config == null ? functionNotFound(qualifier)
          : Reply.ok(config).withEventConfig(state.eventConfigs().get(config.version())));
    }
    AliasConfig alias = state.aliases().get(qualifier);
    if (alias == null) {
      return Effect().reply(cmd.replyTo(), functionNotFound(qualifier));
    }
    FunctionConfig main = state.version(alias.functionVersion());
    FunctionConfig additional = alias.additionalVersionWeights().keySet().stream()
        .map(state::version).findFirst().orElse(null);
    if (main == null) {
      return Effect().reply(cmd.replyTo(), functionNotFound(qualifier));  // cannot happen: versions in use stay
    }
    return Effect().reply(cmd.replyTo(),
        Reply.viaAlias(main, alias, additional).withEventConfig(state.eventConfigs().get(qualifier)));
  }

  private ReplyEffect<Event, State> onUpdate(State state, Update cmd) {
    if (state.latest() == null) {
      return Effect().reply(cmd.replyTo(), functionNotFound(null));
    }
    String current = state.latest().revisionId();
    if (cmd.expectedRevision() != null && !cmd.expectedRevision().equals(current)) {
      return Effect().reply(cmd.replyTo(), revisionMismatch());
    }
    if (!current.equals(cmd.basedOnRevision())) {
      return Effect().reply(cmd.replyTo(), Reply.error(LambdaError.Code.ResourceConflictException,
          "The operation cannot be performed at this time. An update is in progress for resource: " + arn));
    }
    FunctionConfig config = stamped(cmd.config());
    List<Event> events = new ArrayList<>(List.of(new Updated(config)));
    State updated = state.withLatest(config);
    boolean publishNew = cmd.publish() && !updated.latestIsPublished();
    if (publishNew) {
      events.add(publishEvent(updated, null));
    }
    return Effect().persist(events)
        .thenRun(s -> announce())
        .thenReply(cmd.replyTo(), s -> Reply.ok(cmd.publish() ? s.versions().get(s.lastVersion()) : s.latest()));
  }

  private ReplyEffect<Event, State> onPublish(State state, Publish cmd) {
    if (state.latest() == null) {
      return Effect().reply(cmd.replyTo(), functionNotFound(null));
    }
    FunctionConfig latest = state.latest();
    String currentSha = base64(latest.codeSha256Hex());
    if (cmd.codeSha256() != null && !cmd.codeSha256().equals(currentSha)) {
      return Effect().reply(cmd.replyTo(), Reply.error(LambdaError.Code.InvalidParameterValueException,
          "CodeSHA256 (" + cmd.codeSha256() + ") is different from current CodeSHA256 in $LATEST ("
              + currentSha + "). Please try again with the CodeSHA256 in $LATEST."));
    }
    if (cmd.expectedRevision() != null && !cmd.expectedRevision().equals(latest.revisionId())) {
      return Effect().reply(cmd.replyTo(), revisionMismatch());
    }
    if (state.latestIsPublished()) {
      // Nothing changed since the last version: Lambda answers with that version again.
      return Effect().reply(cmd.replyTo(), Reply.ok(state.versions().get(state.lastVersion())));
    }
    return Effect().persist(publishEvent(state, cmd.description()))
        .thenRun(s -> announce())
        .thenReply(cmd.replyTo(), s -> Reply.ok(s.versions().get(s.lastVersion())));
  }

  private VersionPublished publishEvent(State state, String description) {
    FunctionConfig latest = state.latest();
    String number = Integer.toString(state.lastVersion() + 1);
    FunctionConfig version = latest.asVersion(number, description == null ? latest.description() : description)
        .stamped(lastModified(clock), UUID.randomUUID().toString());
    return new VersionPublished(version, latest);
  }

  private ReplyEffect<Event, State> onListVersions(State state, ListVersions cmd) {
    if (state.latest() == null) {
      return Effect().reply(cmd.replyTo(), functionNotFound(null));
    }
    List<FunctionConfig> all = new ArrayList<>();
    all.add(state.latest());
    all.addAll(state.versions().values());
    return Effect().reply(cmd.replyTo(), Reply.ofVersions(List.copyOf(all)));
  }

  private ReplyEffect<Event, State> onDelete(State state, Delete cmd) {
    if (state.latest() == null) {
      return Effect().reply(cmd.replyTo(), functionNotFound(null));
    }
    if (cmd.qualifier() == null) {
      List<FunctionConfig> gone = new ArrayList<>();
      gone.add(state.latest());
      gone.addAll(state.versions().values());
      return Effect().persist(new Deleted(name))
          .thenRun(s -> announce())
          .thenReply(cmd.replyTo(), s -> Reply.ofVersions(List.copyOf(gone)));
    }
    FunctionConfig version = state.version(cmd.qualifier());
    if (version == null || version.isLatest()) {
      // A version that does not exist (or an alias name) is already "deleted".
      return Effect().reply(cmd.replyTo(), Reply.ofVersions(List.of()));
    }
    List<String> users = state.aliases().values().stream()
        .filter(a -> a.references(version.version())).map(AliasConfig::name).toList();
    if (!users.isEmpty()) {
      return Effect().reply(cmd.replyTo(), Reply.error(LambdaError.Code.ResourceConflictException,
          "Unable to delete version because the following aliases reference it: " + users));
    }
    return Effect().persist(new VersionDeleted(version.version()))
        .thenRun(s -> announce())
        .thenReply(cmd.replyTo(), s -> Reply.ofVersions(List.of(version)));
  }

  // ---- aliases -------------------------------------------------------------------------------

  private ReplyEffect<Event, State> onCreateAlias(State state, CreateAlias cmd) {
    if (state.latest() == null) {
      return Effect().reply(cmd.replyTo(), functionNotFound(cmd.alias().functionVersion()));
    }
    AliasConfig alias = cmd.alias();
    if (state.aliases().containsKey(alias.name())) {
      return Effect().reply(cmd.replyTo(), Reply.error(LambdaError.Code.ResourceConflictException,
          "Alias already exists: " + arn + ":" + alias.name()));
    }
    Reply invalid = checkRouting(state, alias);
    if (invalid != null) {
      return Effect().reply(cmd.replyTo(), invalid);
    }
    AliasConfig stored = alias.withRevision(UUID.randomUUID().toString());
    return Effect().persist(new AliasPut(stored))
        .thenRun(s -> announce())
        .thenReply(cmd.replyTo(), s -> Reply.ofAlias(stored));
  }

  private ReplyEffect<Event, State> onUpdateAlias(State state, UpdateAlias cmd) {
    AliasConfig current = state.latest() == null ? null : state.aliases().get(cmd.name());
    if (current == null) {
      return Effect().reply(cmd.replyTo(), Reply.error(LambdaError.Code.ResourceNotFoundException,
          "Alias not found: " + arn + ":" + cmd.name()));
    }
    if (cmd.expectedRevision() != null && !cmd.expectedRevision().equals(current.revisionId())) {
      return Effect().reply(cmd.replyTo(), revisionMismatch());
    }
    AliasConfig changed = new AliasConfig(current.name(),
        cmd.functionVersion() != null ? cmd.functionVersion() : current.functionVersion(),
        cmd.description() != null ? cmd.description() : current.description(),
        cmd.weights() != null ? cmd.weights() : current.additionalVersionWeights(),
        UUID.randomUUID().toString());
    Reply invalid = checkRouting(state, changed);
    if (invalid != null) {
      return Effect().reply(cmd.replyTo(), invalid);
    }
    return Effect().persist(new AliasPut(changed))
        .thenRun(s -> announce())
        .thenReply(cmd.replyTo(), s -> Reply.ofAlias(changed));
  }

  /** The rules that tie an alias to the versions that exist; null when it may be stored. */
  private Reply checkRouting(State state, AliasConfig alias) {
    if (state.version(alias.functionVersion()) == null) {
      return functionNotFound(alias.functionVersion());
    }
    for (String extra : alias.additionalVersionWeights().keySet()) {
      if (extra.equals(alias.functionVersion())) {
        return Reply.error(LambdaError.Code.InvalidParameterValueException, "Invalid function version " + extra
            + ". Function version " + extra + " is already included in routing configuration.");
      }
      if (alias.functionVersion().equals(FunctionConfig.LATEST)) {
        return Reply.error(LambdaError.Code.InvalidParameterValueException,
            "$LATEST is not supported for an alias pointing to more than 1 version");
      }
      if (state.version(extra) == null) {
        return functionNotFound(extra);
      }
    }
    return null;
  }

  private ReplyEffect<Event, State> onGetAlias(State state, GetAlias cmd) {
    AliasConfig alias = state.latest() == null ? null : state.aliases().get(cmd.name());
    return Effect().reply(cmd.replyTo(), alias == null ? aliasNotFound(cmd.name()) : Reply.ofAlias(alias));
  }

  private ReplyEffect<Event, State> onDeleteAlias(State state, DeleteAlias cmd) {
    if (state.latest() == null) {
      return Effect().reply(cmd.replyTo(), functionNotFound(null));
    }
    if (!state.aliases().containsKey(cmd.name())) {
      return Effect().reply(cmd.replyTo(), Reply.ofAliases(List.of()));  // deleting twice is not an error
    }
    return Effect().persist(new AliasDeleted(cmd.name()))
        .thenRun(s -> announce())
        .thenReply(cmd.replyTo(), s -> Reply.ofAliases(List.of()));
  }

  private ReplyEffect<Event, State> onListAliases(State state, ListAliases cmd) {
    if (state.latest() == null) {
      return Effect().reply(cmd.replyTo(), functionNotFound(null));
    }
    List<AliasConfig> aliases = state.aliases().values().stream()
        .filter(a -> cmd.functionVersion() == null || a.references(cmd.functionVersion()))
        .toList();
    return Effect().reply(cmd.replyTo(), Reply.ofAliases(aliases));
  }

  // ---- provisioned concurrency -------------------------------------------------------------

  private static final DateTimeFormatter PROVISIONED_MODIFIED =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ssZ").withZone(ZoneOffset.UTC);

  private ReplyEffect<Event, State> onPutProvisioned(State state, PutProvisioned cmd) {
    if (state.latest() == null) {
      return Effect().reply(cmd.replyTo(), functionNotFound(null));
    }
    if (state.version(cmd.qualifier()) == null && !state.aliases().containsKey(cmd.qualifier())) {
      return Effect().reply(cmd.replyTo(), functionNotFound(cmd.qualifier()));
    }
    ProvisionedConfig config = new ProvisionedConfig(cmd.qualifier(), cmd.requested(),
        PROVISIONED_MODIFIED.format(clock.instant()));
    return Effect().persist(new ProvisionedSet(config)).thenRun(s -> announce())
        .thenReply(cmd.replyTo(), s -> Reply.ofProvisioning(List.copyOf(s.provisioned().values()), s.targets()));
  }

  // ---- event invoke configs ------------------------------------------------------------------

  private ReplyEffect<Event, State> onPutEventConfig(State state, PutEventConfig cmd) {
    String qualifier = cmd.config().qualifier();
    if (state.latest() == null) {
      return Effect().reply(cmd.replyTo(), functionNotFound(null));
    }
    if (state.version(qualifier) == null && !state.aliases().containsKey(qualifier)) {
      return Effect().reply(cmd.replyTo(), functionNotFound(qualifier));
    }
    EventInvokeConfig current = state.eventConfigs().get(qualifier);
    if (cmd.update() && current == null) {
      return Effect().reply(cmd.replyTo(), noEventConfig(qualifier));
    }
    EventInvokeConfig stored = cmd.update() ? current.mergedWith(cmd.config()) : cmd.config();
    return Effect().persist(new EventConfigSet(stored)).thenRun(s -> announce())
        .thenReply(cmd.replyTo(), s -> Reply.ofEventConfigs(List.of(stored)));
  }

  private ReplyEffect<Event, State> onGetEventConfig(State state, GetEventConfig cmd) {
    if (state.latest() == null) {
      return Effect().reply(cmd.replyTo(), functionNotFound(null));
    }
    EventInvokeConfig config = state.eventConfigs().get(cmd.qualifier());
    return Effect().reply(cmd.replyTo(),
        config == null ? noEventConfig(cmd.qualifier()) : Reply.ofEventConfigs(List.of(config)));
  }

  private ReplyEffect<Event, State> onDeleteEventConfig(State state, DeleteEventConfig cmd) {
    if (state.latest() == null) {
      return Effect().reply(cmd.replyTo(), functionNotFound(null));
    }
    if (!state.eventConfigs().containsKey(cmd.qualifier())) {
      return Effect().reply(cmd.replyTo(), noEventConfig(cmd.qualifier()));
    }
    return Effect().persist(new EventConfigRemoved(cmd.qualifier())).thenRun(s -> announce())
        .thenReply(cmd.replyTo(), s -> Reply.ofEventConfigs(List.of()));
  }

  private Reply noEventConfig(String qualifier) {
    return Reply.error(LambdaError.Code.ResourceNotFoundException,
        "The function " + arn + ":" + qualifier + " doesn't have an EventInvokeConfig");
  }

  // ---- helpers -------------------------------------------------------------------------------

  private Reply functionNotFound(String qualifier) {
    return Reply.error(LambdaError.Code.ResourceNotFoundException,
        "Function not found: " + arn + (qualifier == null ? "" : ":" + qualifier));
  }

  private Reply aliasNotFound(String alias) {
    return Reply.error(LambdaError.Code.ResourceNotFoundException, "Cannot find alias arn: " + arn + ":" + alias);
  }

  private static Reply revisionMismatch() {
    return Reply.error(LambdaError.Code.PreconditionFailedException, REVISION_MISMATCH);
  }

  private static String base64(String hex) {
    byte[] bytes = new byte[hex.length() / 2];
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
    }
    return java.util.Base64.getEncoder().encodeToString(bytes);
  }

  private FunctionConfig stamped(FunctionConfig c) {
    return c.stamped(lastModified(clock), UUID.randomUUID().toString());
  }

  private void announce() {
    changes.tell(Topic.publish(new FunctionChanged(name)));
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onEvent(Created.class, (state, e) -> State.empty().withLatest(e.config()))
        .onEvent(Updated.class, (state, e) -> state.withLatest(e.config()))
        .onEvent(Deleted.class, (state, e) -> State.empty())
        .onEvent(VersionPublished.class, (state, e) -> state.withVersion(e.version(), e.source()))
        .onEvent(VersionDeleted.class, (state, e) -> state.withoutVersion(e.version()))
        .onEvent(AliasPut.class, (state, e) -> state.withAlias(e.alias()))
        .onEvent(AliasDeleted.class, (state, e) -> state.withoutAlias(e.name()))
        .onEvent(ProvisionedSet.class, (state, e) -> state.withProvisioned(e.config()))
        .onEvent(ProvisionedRemoved.class, (state, e) -> state.withoutProvisioned(e.qualifier()))
        .onEvent(EventConfigSet.class, (state, e) -> state.withEventConfig(e.config()))
        .onEvent(EventConfigRemoved.class, (state, e) -> state.withoutEventConfig(e.qualifier()))
        .build();
  }
}
