package dev.lamina.node.testing;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import software.amazon.awssdk.services.lambda.LambdaClient;

/**
 * One fresh node per test class: started before the class's own {@code @BeforeAll} methods and
 * stopped after its tests. It fills the class's static fields of type {@link TestNode} and
 * {@link LambdaClient}, so a test class only declares them:
 *
 * <pre>{@code
 * @ExtendWith(NodePerClass.class)
 * class SomethingTest {
 *   static TestNode node;
 *   static LambdaClient lambda;
 * }
 * }</pre>
 *
 * <p>{@link NodeConfig} on the class gives the node configuration of its own.
 */
public final class NodePerClass implements BeforeAllCallback, AfterAllCallback {

  private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(NodePerClass.class);

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    Class<?> testClass = context.getRequiredTestClass();
    NodeConfig config = testClass.getAnnotation(NodeConfig.class);
    TestNode node = config == null ? TestNode.start()
        : TestNode.start(java.nio.file.Files.createTempDirectory("lamina-test-"), true,
            com.typesafe.config.ConfigFactory.parseString(config.value()));
    context.getStore(NAMESPACE).put(TestNode.class, node);
    for (Field field : testClass.getDeclaredFields()) {
      if (!Modifier.isStatic(field.getModifiers())) {
        continue;
      }
      if (field.getType() == TestNode.class) {
        field.setAccessible(true);
        field.set(null, node);
      } else if (field.getType() == LambdaClient.class) {
        field.setAccessible(true);
        field.set(null, node.lambda());
      }
    }
  }

  @Override
  public void afterAll(ExtensionContext context) {
    TestNode node = context.getStore(NAMESPACE).remove(TestNode.class, TestNode.class);
    if (node != null) {
      node.close();
    }
  }
}
