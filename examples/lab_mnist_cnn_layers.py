# Lab 11-4 MNIST and Deep learning CNN with tf.layers, in a Model class:
# conv 3x3x32 -> pool -> dropout -> conv 3x3x64 -> pool -> dropout -> conv 3x3x128 -> pool -> dropout
# -> dense 625 -> dropout -> dense 10; a `training` placeholder switches dropout on and off.
# python examples/lab_mnist_cnn_layers.py --steps 500 --batch_size 100 --logdir ./logs/mnist_cnn_layers
# board --logdir ./logs/mnist_cnn_layers
import time

import mnist_data as input_data  # stands in for tensorflow.examples.tutorials.mnist.input_data
import summaries as tf

FLAGS = input_data.lab_flags("TF1 MNIST CNN lab with tf.layers", "./logs/mnist_cnn_layers")

tf.set_random_seed(777)  # reproducibility

mnist = input_data.read_data_sets(FLAGS.data_dir, one_hot=True)


class Model:

    def __init__(self, sess, name):
        self.sess = sess
        self.name = name
        self._build_net()

    def _build_net(self):
        with tf.variable_scope(self.name):
            # dropout (keep_prob) rate  0.7~0.5 on training, but should be 1
            # for testing
            self.training = tf.placeholder(tf.bool, name='training')

            # input place holders
            self.X = tf.placeholder(tf.float32, [None, 784], name='X')

            # img 28x28x1 (black/white), Input Layer
            X_img = tf.reshape(self.X, [-1, 28, 28, 1])
            self.Y = tf.placeholder(tf.float32, [None, 10], name='Y')

            # Convolutional Layer #1
            conv1 = tf.layers.conv2d(inputs=X_img, filters=32, kernel_size=[3, 3],
                                     padding="SAME", activation=tf.nn.relu)
            # Pooling Layer #1
            pool1 = tf.layers.max_pooling2d(inputs=conv1, pool_size=[2, 2],
                                            padding="SAME", strides=2)
            dropout1 = tf.layers.dropout(inputs=pool1,
                                         rate=0.3, training=self.training)

            # Convolutional Layer #2 and Pooling Layer #2
            conv2 = tf.layers.conv2d(inputs=dropout1, filters=64, kernel_size=[3, 3],
                                     padding="SAME", activation=tf.nn.relu)
            pool2 = tf.layers.max_pooling2d(inputs=conv2, pool_size=[2, 2],
                                            padding="SAME", strides=2)
            dropout2 = tf.layers.dropout(inputs=pool2,
                                         rate=0.3, training=self.training)

            # Convolutional Layer #3 and Pooling Layer #3
            conv3 = tf.layers.conv2d(inputs=dropout2, filters=128, kernel_size=[3, 3],
                                     padding="same", activation=tf.nn.relu)
            pool3 = tf.layers.max_pooling2d(inputs=conv3, pool_size=[2, 2],
                                            padding="same", strides=2)
            dropout3 = tf.layers.dropout(inputs=pool3,
                                         rate=0.3, training=self.training)

            # Dense Layer with Relu
            flat = tf.reshape(dropout3, [-1, 128 * 4 * 4])
            dense4 = tf.layers.dense(inputs=flat,
                                     units=625, activation=tf.nn.relu)
            dropout4 = tf.layers.dropout(inputs=dense4,
                                         rate=0.5, training=self.training)

            # Logits (no activation) Layer: L5 Final FC 625 inputs -> 10 outputs
            self.logits = tf.layers.dense(inputs=dropout4, units=10)

        # define cost/loss & optimizer
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


# initialize
sess = tf.Session()
m1 = Model(sess, "m1")

sess.run(tf.global_variables_initializer())
writer = tf.summary.FileWriter(FLAGS.logdir, sess.graph)

print('Learning Started!')

# train my model
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

# Test model and check accuracy
print('Accuracy:', input_data.batched_accuracy(m1.get_accuracy, mnist.test, FLAGS.eval_size))
