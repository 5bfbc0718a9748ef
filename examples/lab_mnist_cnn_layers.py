# Lab 11-4: a deeper MNIST convnet built from tf.layers and wrapped in a Model class:
# conv 3x3x32 -> pool -> dropout -> conv 3x3x64 -> pool -> dropout -> conv 3x3x128 -> pool -> dropout
# -> dense 625 -> dropout -> dense 10; dropout is active only when the `training` placeholder is True.
# python examples/lab_mnist_cnn_layers.py --steps 500 --batch_size 100 --logdir ./logs/mnist_cnn_layers
# board --logdir ./logs/mnist_cnn_layers
import time

import mnist_data as input_data  # our loader, used where TF1 had its tutorials' MNIST module
import summaries as tf

FLAGS = input_data.lab_flags("TF1 MNIST CNN lab with tf.layers", "./logs/mnist_cnn_layers")

tf.set_random_seed(777)  # same initial weights on every run

mnist = input_data.read_data_sets(FLAGS.data_dir, one_hot=True)


class Model:

    def __init__(self, sess, name):
        self.sess = sess
        self.name = name
        self._build_net()

    def _build_net(self):
        with tf.variable_scope(self.name):
            # True while training so the dropout layers drop units; False to evaluate
            self.training = tf.placeholder(tf.bool, name='training')

            # flat 784-pixel images, fed per batch
            self.X = tf.placeholder(tf.float32, [None, 784], name='X')

            # reshape to 28x28 with one grey channel, as conv2d expects
            X_img = tf.reshape(self.X, [-1, 28, 28, 1])
            self.Y = tf.placeholder(tf.float32, [None, 10], name='Y')

            # block 1: 32 filters of 3x3, then a 2x2 pool: (?, 14, 14, 32)
            conv1 = tf.layers.conv2d(inputs=X_img, filters=32, kernel_size=[3, 3],
                                     padding="SAME", activation=tf.nn.relu)
            pool1 = tf.layers.max_pooling2d(inputs=conv1, pool_size=[2, 2],
                                            padding="SAME", strides=2)
            dropout1 = tf.layers.dropout(inputs=pool1,
                                         rate=0.3, training=self.training)

            # block 2: 64 filters: (?, 7, 7, 64)
            conv2 = tf.layers.conv2d(inputs=dropout1, filters=64, kernel_size=[3, 3],
                                     padding="SAME", activation=tf.nn.relu)
            pool2 = tf.layers.max_pooling2d(inputs=conv2, pool_size=[2, 2],
                                            padding="SAME", strides=2)
            dropout2 = tf.layers.dropout(inputs=pool2,
                                         rate=0.3, training=self.training)

            # block 3: 128 filters; SAME pooling rounds 7 up to 4: (?, 4, 4, 128)
            conv3 = tf.layers.conv2d(inputs=dropout2, filters=128, kernel_size=[3, 3],
                                     padding="same", activation=tf.nn.relu)
            pool3 = tf.layers.max_pooling2d(inputs=conv3, pool_size=[2, 2],
                                            padding="same", strides=2)
            dropout3 = tf.layers.dropout(inputs=pool3,
                                         rate=0.3, training=self.training)

            # flatten, then a wide ReLU layer with heavier dropout
            flat = tf.reshape(dropout3, [-1, 128 * 4 * 4])
            dense4 = tf.layers.dense(inputs=flat,
                                     units=625, activation=tf.nn.relu)
            dropout4 = tf.layers.dropout(inputs=dense4,
                                         rate=0.5, training=self.training)

            # raw scores for the 10 digits; the softmax lives inside the loss
            self.logits = tf.layers.dense(inputs=dropout4, units=10)

        # softmax cross-entropy, minimised with Adam
        self.cost = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(
            logits=self.logits, labels=self.Y))
        self.optimizer = tf.train.AdamOptimizer(
            learning_rate=FLAGS.learning_rate).minimize(self.cost)

        correct_prediction = tf.equal(
            tf.argmax(self.logits, 1), tf.argmax(self.Y, 1))
        self.accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))

        tf.summary.scalar('loss', self.cost)
        tf.summary.scalar('accuracy', self.accuracy)
        self.summary = tf.summary.merge_all()

    def predict(self, x_test, training=False):
        return self.sess.run(self.logits,
                             feed_dict={self.X: x_test, self.training: training})

    def get_accuracy(self, x_test, y_test, training=False):
        return self.sess.run(self.accuracy,
                             feed_dict={self.X: x_test,
                                        self.Y: y_test, self.training: training})

    def train(self, x_data, y_data, training=True):
        return self.sess.run([self.cost, self.optimizer], feed_dict={
            self.X: x_data, self.Y: y_data, self.training: training})

    def train_with_summary(self, x_data, y_data, training=True):
        return self.sess.run([self.summary, self.cost, self.optimizer], feed_dict={
            self.X: x_data, self.Y: y_data, self.training: training})


# one model in one session; the writer also records the graph
sess = tf.Session()
m1 = Model(sess, "m1")

sess.run(tf.global_variables_initializer())
writer = tf.summary.FileWriter(FLAGS.logdir, sess.graph)

print('Learning Started!')

# --steps 0 means one pass over the training set; summaries only every summary_every steps
steps = FLAGS.steps or mnist.train.num_examples // FLAGS.batch_size
start = time.time()
for step in range(steps):
    batch_xs, batch_ys = mnist.train.next_batch(FLAGS.batch_size)
    if step % FLAGS.summary_every == 0:
        s, c, _ = m1.train_with_summary(batch_xs, batch_ys)
        writer.add_summary(s, global_step=step)
        print('Step:', '%04d' % step, 'cost =', '{:.9f}'.format(c))
    else:
        m1.train(batch_xs, batch_ys)
train_seconds = time.time() - start
writer.close()
print('Learning Finished! %d steps of %d in %.1f s' % (steps, FLAGS.batch_size, train_seconds))

# test-set accuracy with dropout off, in batches to bound memory
print('Accuracy:', input_data.batched_accuracy(m1.get_accuracy, mnist.test, FLAGS.eval_size))
