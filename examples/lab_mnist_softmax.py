# Lab 7: a single softmax layer on MNIST, grouped into name scopes so the graph reads well
import random

import mnist_data as input_data  # our loader, used where TF1 had its tutorials' MNIST module
import os
import summaries as tf

tf.set_random_seed(777)  # same initial weights on every run

mnist = input_data.read_data_sets(input_data.data_dir("MNIST_data/"), one_hot=True)

nb_classes = 10

# each image arrives flattened: 28 * 28 = 784 pixels
X = tf.placeholder(tf.float32, [None, 784])
# one-hot labels, one column per digit
Y = tf.placeholder(tf.float32, [None, nb_classes])

with tf.name_scope("softmax") as scope:
    W = tf.Variable(tf.random_normal([784, nb_classes]))
    b = tf.Variable(tf.random_normal([nb_classes]))

    # class probabilities from a linear layer
    hypothesis = tf.nn.softmax(tf.matmul(X, W) + b)

with tf.name_scope("cost") as scope:
    cost = tf.reduce_mean(-tf.reduce_sum(Y * tf.log(hypothesis), axis=1))

with tf.name_scope("train") as scope:
    optimizer = tf.train.GradientDescentOptimizer(learning_rate=0.1).minimize(cost)

# fraction of images whose most likely class matches the label
with tf.name_scope("accuracy") as scope:
    is_correct = tf.equal(tf.arg_max(hypothesis, 1), tf.arg_max(Y, 1))
    # booleans to 0/1, then the mean
    accuracy = tf.reduce_mean(tf.cast(is_correct, tf.float32))

# LAB_EPOCHS lets the tests run a shorter schedule
training_epochs = int(os.environ.get("LAB_EPOCHS", "15"))
batch_size = 100

with tf.Session() as sess:
    # random starting weights and biases
    sess.run(tf.global_variables_initializer())
    # one epoch = one pass over the training images in mini-batches
    for epoch in range(training_epochs):
        avg_cost = 0
        total_batch = int(mnist.train.num_examples / batch_size)

        for i in range(total_batch):
            batch_xs, batch_ys = mnist.train.next_batch(batch_size)
            c, _ = sess.run([cost, optimizer], feed_dict={X: batch_xs, Y: batch_ys})
            avg_cost += c / total_batch

        print('Epoch:', '%04d' % (epoch + 1), 'cost =', '{:.9f}'.format(avg_cost))

    print("Learning finished")

    # accuracy on the whole held-out test set
    print("Accuracy: ", accuracy.eval(session=sess, feed_dict={X: mnist.test.images, Y: mnist.test.labels}))

    # spot check: one random test image, its label and the model's guess
    r = random.randint(0, mnist.test.num_examples - 1)
    print("Label: ", sess.run(tf.argmax(mnist.test.labels[r:r + 1], 1)))
    print("Prediction: ", sess.run(tf.argmax(hypothesis, 1), feed_dict={X: mnist.test.images[r:r + 1]}))
