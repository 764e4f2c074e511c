"""The optimizers: tf_keras 2.x's update rules, written as graph expressions.

Each :meth:`_step` reads the weight (``value``: after weight decay), its
gradient, its slots' current values (``param`` reads: the values from before
the step) and the rate, and puts the new values of the slots and the weight in
``writes``. The formulas follow ``tf_keras.optimizers`` operation by
operation, in float32, so trained weights agree with tf_keras to float32
rounding.
"""
from __future__ import annotations

import numpy as np

from .. import backend as K
from .base import Optimizer

F = np.float32


def _write(writes, variable, value) -> None:
    writes[id(variable)] = (variable, value)


class SGD(Optimizer):
    """Gradient descent with momentum: ``m = -g * lr + m * momentum``; the
    weight adds ``m`` (Nesterov: ``-g * lr + m * momentum`` with the new ``m``)."""

    SLOTS = ("m",)

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name="SGD", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if not 0 <= momentum <= 1:
            raise ValueError(f"SGD: `momentum` must be between [0, 1], received {momentum}")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)

    def _step(self, grad, weight, value, rate, writes):
        m = self.slot(weight, "m")
        if self.momentum == 0:
            _write(writes, weight, value + (-grad * rate))
            return
        new_m = -grad * rate + m.tensor * F(self.momentum)
        _write(writes, m, new_m)
        if self.nesterov:
            _write(writes, weight, value + (-grad * rate + new_m * F(self.momentum)))
        else:
            _write(writes, weight, value + new_m)

    def _own_config(self):
        return {"momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam: bias-corrected ``alpha = lr * sqrt(1 - b2^t) / (1 - b1^t)``,
    ``w -= m * alpha / (sqrt(v) + eps)``; AMSGrad keeps ``max(v_hat, v)``."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, name="Adam", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)
        self.epsilon = float(epsilon)
        self.amsgrad = bool(amsgrad)
        self.SLOTS = ("m", "v", "vhat") if self.amsgrad else ("m", "v")

    def _step(self, grad, weight, value, rate, writes):
        t = self._step_count()
        b1_power = K.pow(F(self.beta_1), t)
        b2_power = K.pow(F(self.beta_2), t)
        alpha = rate * K.sqrt(1 - b2_power) / (1 - b1_power)
        m, v = self.slot(weight, "m"), self.slot(weight, "v")
        new_m = m.tensor + (grad - m.tensor) * F(1 - self.beta_1)
        new_v = v.tensor + (K.square(grad) - v.tensor) * F(1 - self.beta_2)
        _write(writes, m, new_m)
        _write(writes, v, new_v)
        if self.amsgrad:
            vhat = self.slot(weight, "vhat")
            new_v = K.maximum(vhat.tensor, new_v)
            _write(writes, vhat, new_v)
        _write(writes, weight, value - (new_m * alpha) / (K.sqrt(new_v) + F(self.epsilon)))

    def _keras_slot_groups(self):
        return (("m", "v"), ("vhat",))  # tf_keras makes the amsgrad slots last

    def _own_config(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (``weight_decay=0.004``)."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, name="AdamW", **kwargs):
        if weight_decay is None:
            raise ValueError("AdamW: `weight_decay` must be a number, received None")
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, amsgrad=amsgrad, name=name,
                         weight_decay=weight_decay, **kwargs)


class RMSprop(Optimizer):
    """RMSprop: ``velocity = rho * velocity + (1 - rho) * g^2``, step
    ``lr * g / sqrt(velocity (- avg_g^2 when centered) + eps)``, with momentum."""

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, name="RMSprop", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.rho, self.momentum = float(rho), float(momentum)
        self.epsilon, self.centered = float(epsilon), bool(centered)
        self.SLOTS = ("velocity",) + (("momentum",) if self.momentum > 0 else ()) + \
            (("average_gradient",) if self.centered else ())

    def _step(self, grad, weight, value, rate, writes):
        rho = F(self.rho)
        velocity = self.slot(weight, "velocity")
        new_velocity = rho * velocity.tensor + (1 - rho) * K.square(grad)
        _write(writes, velocity, new_velocity)
        if self.centered:
            average = self.slot(weight, "average_gradient")
            new_average = rho * average.tensor + (1 - rho) * grad
            _write(writes, average, new_average)
            denominator = new_velocity - K.square(new_average) + F(self.epsilon)
        else:
            denominator = new_velocity + F(self.epsilon)
        increment = rate * grad * (1.0 / K.sqrt(denominator))
        if self.momentum > 0:
            momentum = self.slot(weight, "momentum")
            new_momentum = F(self.momentum) * momentum.tensor + increment
            _write(writes, momentum, new_momentum)
            _write(writes, weight, value + (-new_momentum))
        else:
            _write(writes, weight, value + (-increment))

    def _keras_slot_groups(self):
        return tuple((slot,) for slot in self.SLOTS)  # tf_keras: one kind after another

    def _own_config(self):
        return {"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                "centered": self.centered}


class Adagrad(Optimizer):
    """Adagrad: ``acc += g^2``; ``w -= lr * g / sqrt(acc + eps)``."""

    SLOTS = ("accumulator",)

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 name="Adagrad", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.epsilon = float(epsilon)

    def _slot_initial(self, slot):
        return self.initial_accumulator_value

    def _step(self, grad, weight, value, rate, writes):
        accumulator = self.slot(weight, "accumulator")
        new_accumulator = accumulator.tensor + grad * grad
        _write(writes, accumulator, new_accumulator)
        _write(writes, weight, value - rate * grad / K.sqrt(new_accumulator + F(self.epsilon)))

    def _own_config(self):
        return {"initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


class Adadelta(Optimizer):
    """Adadelta: running averages of ``g^2`` and of the squared steps."""

    SLOTS = ("accumulated_grad", "accumulated_delta_var")

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, name="Adadelta", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.rho, self.epsilon = float(rho), float(epsilon)

    def _step(self, grad, weight, value, rate, writes):
        rho, eps = F(self.rho), F(self.epsilon)
        acc_grad = self.slot(weight, "accumulated_grad")
        acc_delta = self.slot(weight, "accumulated_delta_var")
        new_acc_grad = rho * acc_grad.tensor + (1 - rho) * grad * grad
        delta = -K.sqrt(acc_delta.tensor + eps) * grad / K.sqrt(new_acc_grad + eps)
        _write(writes, acc_grad, new_acc_grad)
        _write(writes, acc_delta, rho * acc_delta.tensor + (1 - rho) * delta * delta)
        _write(writes, weight, value + rate * delta)

    def _own_config(self):
        return {"rho": self.rho, "epsilon": self.epsilon}


class Nadam(Optimizer):
    """Nadam: Adam with Nesterov momentum and tf_keras's momentum schedule
    (``u_t = beta_1 * (1 - 0.5 * 0.96^t)``, their running product a Variable)."""

    SLOTS = ("m", "v")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 name="Nadam", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        self._u_product = None

    def _build_extra(self):
        if self._u_product is None:
            self._u_product = K.variable(np.float32(1.0), name=f"{self.name}/u_product")
            self._u_product.trainable = False

    def _extra_variables(self):
        return [self._u_product] if self._u_product is not None else []

    def _u(self, offset):
        decay = K.pow(F(0.96), self._step_count(offset))
        return F(self.beta_1) * (1.0 - 0.5 * decay)

    def _begin_step(self, writes):
        self._u_t, self._u_t_1 = self._u(1), self._u(2)
        self._product_t = self._u_product.tensor * self._u_t
        _write(writes, self._u_product, self._product_t)

    def _step(self, grad, weight, value, rate, writes):
        u_t, u_t_1, product_t = self._u_t, self._u_t_1, self._product_t
        product_t_1 = product_t * u_t_1
        b2_power = K.pow(F(self.beta_2), self._step_count())
        m, v = self.slot(weight, "m"), self.slot(weight, "v")
        new_m = m.tensor + (grad - m.tensor) * F(1 - self.beta_1)
        new_v = v.tensor + (K.square(grad) - v.tensor) * F(1 - self.beta_2)
        _write(writes, m, new_m)
        _write(writes, v, new_v)
        m_hat = u_t_1 * new_m / (1 - product_t_1) + (1 - u_t) * grad / (1 - product_t)
        v_hat = new_v / (1 - b2_power)
        _write(writes, weight, value - (m_hat * rate) / (K.sqrt(v_hat) + F(self.epsilon)))

    def _own_config(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}
