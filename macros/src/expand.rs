//! Code generation from a checked network. Cannot fail: every check
//! happened in `validate`. Generated code names the runtime by absolute paths
//! only, holds no arithmetic kernels (it calls layer, activation and loss
//! methods of the runtime) and starts its locals with `__`. What needs a heap
//! (the batch methods and the batch trace) is wrapped in
//! `::staticnet::__if_alloc!`, which the runtime expands only with its
//! `alloc` feature: the macro cannot see the runtime's features.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};

use crate::spatial::Geom;
use crate::validate::{CheckedLayer, Dim, Network, Op};

/// Layers with more scalars than this keep their matrices on the heap; the
/// same number as `staticnet::layers::HEAP_THRESHOLD`, which the macro uses
/// by name where a size is symbolic.
const HEAP_THRESHOLD: usize = 16_384;

pub fn expand(net: &Network) -> TokenStream {
    let rt = quote!(::staticnet::__private);
    let Network {
        decl_attrs,
        vis,
        ident,
        scalar: t,
        input,
        input_shape,
        input_span,
        layers: all_layers,
        assertions,
        all_inline,
    } = net;
    // flatten only changes the shape: it has no field, no trace and no code
    let layers: Vec<&CheckedLayer> = all_layers
        .iter()
        .filter(|l| !matches!(l.op, Op::Flatten))
        .collect();
    let params: Vec<&CheckedLayer> = layers
        .iter()
        .copied()
        .filter(|l| matches!(l.op, Op::Dense | Op::Conv(_)))
        .collect();
    // "method defined here" notes then point at the size the argument must
    // have: the input size for `forward`, the last layer's size for `gradients`
    let forward_fn = quote::format_ident!("forward", span = *input_span);
    let gradients_fn = quote::format_ident!(
        "gradients",
        span = all_layers.last().map_or(*input_span, |l| l.output_span)
    );
    let name_text = ident.to_string();
    let grads = format_ident!("{}Gradients", ident);
    let trace = format_ident!("{}Trace", ident);
    let batch_trace = format_ident!("{}BatchTrace", ident);
    let workspace = format_ident!("{}BatchWorkspace", ident);
    let n_in = input.arg();
    let n_in_value = input.value();
    let last = layers.last();
    let n_out = last.map_or_else(|| n_in.clone(), |l| l.output.arg());
    let n_out_value = last.map_or_else(|| n_in_value.clone(), |l| l.output.value());
    let input_dims = input_shape.dims();

    // geometry constants of convolutions and pools, one per layer
    let geometry_name = |l: &CheckedLayer| {
        let index = all_layers
            .iter()
            .position(|x| std::ptr::eq(x, l))
            .unwrap_or(0);
        format_ident!("__GEOMETRY_{}", index + 1)
    };
    let geometries: Vec<TokenStream> = layers
        .iter()
        .filter_map(|l| {
            let g = match &l.op {
                Op::Conv(g) | Op::Pool { geom: g, .. } => g,
                _ => return None,
            };
            let name = geometry_name(l);
            let Geom {
                cin,
                h,
                w,
                cout,
                kh,
                kw,
                sh,
                sw,
                ph,
                pw,
                ..
            } = *g;
            let message = format!("the geometry of layer `{}` does not work out", l.name);
            Some(quote! {
                const #name: #rt::Geometry2d = match #rt::Geometry2d::new(
                    #cin, #h, #w, #cout, (#kh, #kw), (#sh, #sw), (#ph, #pw),
                ) {
                    ::core::option::Option::Some(__g) => __g,
                    ::core::option::Option::None => ::core::panic!(#message),
                };
            })
        })
        .collect();

    // the runtime type of a pooling layer
    let pool_type = |max: bool| {
        if max {
            quote!(#rt::MaxPool2d)
        } else {
            quote!(#rt::AvgPool2d)
        }
    };
    // the operation of each layer, for one sample and for a batch
    let z_of = |l: &CheckedLayer, a: &TokenStream, batch: bool| -> TokenStream {
        let f = &l.field;
        let (i, o) = (l.input.arg(), l.output.arg());
        let g = geometry_name(l);
        let method = if batch {
            quote!(forward_batch)
        } else {
            quote!(forward)
        };
        match &l.op {
            Op::Dense | Op::Flatten => quote!(self.#f.#method(#a)),
            Op::Conv(_) => quote!(self.#f.#method::<#i, #o>(&Self::#g, #a)),
            Op::Pool { max, .. } => {
                let pool = pool_type(*max);
                quote!(#pool.#method::<#t, #i, #o>(&Self::#g, #a))
            }
        }
    };
    let accumulate_of = |l: &CheckedLayer, a: &TokenStream, batch: bool| -> TokenStream {
        let f = &l.field;
        let (i, o) = (l.input.arg(), l.output.arg());
        let g = geometry_name(l);
        let method = if batch {
            quote!(accumulate_batch_gradients)
        } else {
            quote!(accumulate_gradients)
        };
        match &l.op {
            Op::Dense => quote!(#rt::Dense::#method(&#a, &__delta, &mut gradients.#f);),
            Op::Conv(_) => {
                quote!(#rt::Conv2d::#method::<#i, #o>(&Self::#g, &#a, &__delta, &mut gradients.#f);)
            }
            Op::Pool { .. } | Op::Flatten => quote!(),
        }
    };
    let backprop_of = |l: &CheckedLayer, a: &TokenStream, batch: bool| -> TokenStream {
        let f = &l.field;
        let (i, o) = (l.input.arg(), l.output.arg());
        let g = geometry_name(l);
        let method = if batch {
            quote!(backpropagate_batch)
        } else {
            quote!(backpropagate)
        };
        match &l.op {
            Op::Dense | Op::Flatten => quote!(self.#f.#method(&__delta)),
            Op::Conv(_) => quote!(self.#f.#method::<#i, #o>(&Self::#g, &__delta)),
            Op::Pool { max, .. } => {
                let pool = pool_type(*max);
                quote!(#pool.#method::<#t, #i, #o>(&Self::#g, &#a, &__delta))
            }
        }
    };

    let heap_checks: Vec<TokenStream> = if *all_inline {
        Vec::new()
    } else {
        params.iter().filter_map(|l| heap_check(l)).collect()
    };
    let fields: Vec<_> = params.iter().map(|l| &l.field).collect();
    let names: Vec<_> = params.iter().map(|l| l.name.as_str()).collect();
    let types: Vec<_> = params
        .iter()
        .map(|l| layer_type(l, t, *all_inline))
        .collect();
    let field_docs: Vec<_> = params.iter().map(|l| layer_doc(l)).collect();
    let trace_fields: Vec<_> = layers.iter().map(|l| &l.field).collect();
    let trace_docs: Vec<_> = layers.iter().map(|l| layer_doc(l)).collect();
    let outs: Vec<_> = layers.iter().map(|l| l.output.arg()).collect();
    let initializers: Vec<TokenStream> = params
        .iter()
        .map(|l| {
            let f = &l.field;
            let weight = l.weight_init.clone().unwrap_or_else(|| {
                let act = &l.activation.ty;
                quote!(#rt::Init::default_for(<#act as #rt::Activation>::KIND))
            });
            let bias = l
                .bias_init
                .clone()
                .unwrap_or_else(|| quote!(#rt::Init::Zeros));
            match &l.op {
                Op::Conv(_) => {
                    let g = geometry_name(l);
                    quote!(__net.#f.initialize(&Self::#g, #weight, #bias, rng);)
                }
                _ => quote!(__net.#f.initialize(#weight, #bias, rng);),
            }
        })
        .collect();
    let zeros: Vec<TokenStream> = params
        .iter()
        .map(|l| match l.op {
            Op::Conv(_) => quote!(#rt::Conv2d::zeros()),
            _ => quote!(#rt::Dense::zeros()),
        })
        .collect();
    let summary_rows: Vec<TokenStream> = all_layers
        .iter()
        .map(|l| {
            let (name, kind, act) = (l.name.as_str(), l.kind, l.activation.text.as_str());
            let act = if matches!(l.op, Op::Flatten) { "" } else { act };
            let dims = l.output_shape.dims();
            let parameters = match l.op {
                Op::Dense | Op::Conv(_) => {
                    let ty = layer_type(l, t, *all_inline);
                    quote!(<#ty>::PARAMETERS)
                }
                _ => quote!(0),
            };
            let geometry = match l.op {
                Op::Conv(_) | Op::Pool { .. } => {
                    let g = geometry_name(l);
                    quote!(::core::option::Option::Some(Self::#g))
                }
                _ => quote!(::core::option::Option::None),
            };
            let multiply_adds = match l.op {
                Op::Dense => {
                    let (i, o) = (l.input.value(), l.output.value());
                    quote!(#i * #o)
                }
                Op::Conv(_) => {
                    let g = geometry_name(l);
                    quote!(Self::#g.multiply_adds())
                }
                _ => quote!(0),
            };
            quote! {
                #rt::LayerSummary {
                    name: #name,
                    kind: #kind,
                    activation: #act,
                    output: &[#(#dims),*],
                    parameters: #parameters,
                    multiply_adds: #multiply_adds,
                    geometry: #geometry,
                }
            }
        })
        .collect();
    let scalar_text = quote!(#t).to_string().replace(' ', "");

    // forward passes
    let forward = chain(&layers, quote!(x), |l, a| {
        let act = &l.activation.value;
        let z = z_of(l, &a, false);
        quote!(#rt::Activation::apply(&#act, &#z))
    });
    let forward_batch = chain(&layers, quote!(x), |l, a| {
        let act = &l.activation.value;
        let z = z_of(l, &a, true);
        quote!(#rt::Activation::apply_batch(&#act, &#z))
    });
    let trace_locals: Vec<_> = layers
        .iter()
        .map(|l| format_ident!("__{}", l.field))
        .collect();
    let trace_inputs: Vec<_> = core::iter::once(quote!(x))
        .chain(trace_locals.iter().map(|v| quote!(&#v.a)))
        .collect();
    let trace_steps = layers
        .iter()
        .zip(&trace_locals)
        .zip(&trace_inputs)
        .map(|((l, v), a)| {
            let act = &l.activation.value;
            let z = z_of(l, a, false);
            quote! {
                let __z = #z;
                let #v = #rt::LayerTrace { a: #rt::Activation::apply(&#act, &__z), z: __z };
            }
        });
    let batch_trace_steps = layers.iter().zip(&trace_locals).zip(&trace_inputs).map(|((l, v), a)| {
        let act = &l.activation.value;
        let z = z_of(l, a, true);
        quote! {
            let __z = #z;
            let #v = #rt::BatchLayerTrace { a: #rt::Activation::apply_batch(&#act, &__z), z: __z };
        }
    });

    // backward: from the last layer's delta down to the first layer's
    let layer_inputs: Vec<_> = core::iter::once(quote!(trace.input))
        .chain(layers.iter().map(|l| {
            let f = &l.field;
            quote!(trace.#f.a)
        }))
        .collect();
    let backward_steps = |batch: bool| -> TokenStream {
        let mut steps = TokenStream::new();
        for (i, l) in layers.iter().enumerate().rev() {
            let a = &layer_inputs[i];
            steps.extend(accumulate_of(l, a, batch));
            if i > 0 {
                let prev = &layers[i - 1];
                let (pf, pact) = (&prev.field, &prev.activation.value);
                let back = backprop_of(l, a, batch);
                if batch {
                    steps.extend(quote! {
                        let mut __delta = #back;
                        #rt::Activation::backprop_batch(&#pact, &trace.#pf.z, &trace.#pf.a, &mut __delta);
                    });
                } else {
                    steps.extend(quote! {
                        let __delta = #rt::Activation::backprop(
                            &#pact, &trace.#pf.z, &trace.#pf.a, &#back,
                        );
                    });
                }
            }
        }
        steps
    };
    let backward_single = backward_steps(false);
    let backward_batch = backward_steps(true);
    let first_back = layers
        .first()
        .map(|l| backprop_of(l, &quote!(trace.input), false));
    let first_back_batch = layers
        .first()
        .map(|l| backprop_of(l, &quote!(trace.input), true));
    let first_out = layers.first().map(|l| l.output.arg());
    let (last_field, last_act) = match last {
        Some(l) => (l.field.clone(), l.activation.value.clone()),
        None => (
            format_ident!("__none"),
            quote!(::staticnet::activation::Identity),
        ),
    };

    // the batch pass into a reused workspace: one `LayerBuffers` per layer,
    // every layer reading its input from the previous layer's activations
    let has_conv = layers.iter().any(|l| matches!(l.op, Op::Conv(_)));
    let ws_input = |i: usize| -> TokenStream {
        if i == 0 {
            quote!(x)
        } else {
            let f = &layers[i - 1].field;
            quote!(&__ws.#f.a)
        }
    };
    let ws_forward: Vec<TokenStream> = layers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let f = &l.field;
            let (ti, to) = (l.input.arg(), l.output.arg());
            let rows = {
                let o = l.output.arg();
                quote!(#rt::rows::<#o>())
            };
            let act = &l.activation.value;
            let g = geometry_name(l);
            let a = ws_input(i);
            let z = match &l.op {
                Op::Dense | Op::Flatten => quote!(self.#f.forward_batch_into(#a, &mut __ws.#f.z);),
                Op::Conv(_) => quote! {
                    self.#f.forward_batch_into::<#ti, #to>(&Self::#g, #a, &mut __ws.#f.z, &mut __ws.__scratch);
                },
                Op::Pool { max, .. } => {
                    let pool = pool_type(*max);
                    quote!(#pool.forward_batch_into::<#t, #ti, #to>(&Self::#g, #a, &mut __ws.#f.z);)
                }
            };
            quote! {
                __ws.#f.resize(#rows, __n);
                #z
                #rt::Activation::forward_columns(&#act, #rows, &__ws.#f.z, &mut __ws.#f.a);
            }
        })
        .collect();
    let ws_backward: Vec<TokenStream> = layers
        .iter()
        .enumerate()
        .rev()
        .map(|(i, l)| {
            let f = &l.field;
            let (ti, to) = (l.input.arg(), l.output.arg());
            let g = geometry_name(l);
            let a = ws_input(i);
            let accumulate = match &l.op {
                Op::Dense => quote! {
                    #rt::Dense::accumulate_batch_gradients_into(#a, &__ws.#f.delta, &mut gradients.#f);
                },
                Op::Conv(_) => quote! {
                    #rt::Conv2d::accumulate_batch_gradients_into::<#ti, #to>(
                        &Self::#g, #a, &__ws.#f.delta, &mut gradients.#f, &mut __ws.__scratch,
                    );
                },
                Op::Pool { .. } | Op::Flatten => quote!(),
            };
            if i == 0 {
                return accumulate;
            }
            let prev = &layers[i - 1];
            let (pf, pact) = (&prev.field, &prev.activation.value);
            let prows = {
                let o = prev.output.arg();
                quote!(#rt::rows::<#o>())
            };
            let back = match &l.op {
                Op::Dense | Op::Flatten => {
                    quote!(self.#f.backpropagate_batch_into(&__ws.#f.delta, &mut __ws.#pf.delta);)
                }
                Op::Conv(_) => quote! {
                    self.#f.backpropagate_batch_into::<#ti, #to>(
                        &Self::#g, &__ws.#f.delta, &mut __ws.#pf.delta, &mut __ws.__scratch,
                    );
                },
                Op::Pool { max, .. } => {
                    let pool = pool_type(*max);
                    quote! {
                        #pool.backpropagate_batch_into::<#t, #ti, #to>(
                            &Self::#g, #a, &__ws.#f.delta, &mut __ws.#pf.delta,
                        );
                    }
                }
            };
            quote! {
                #accumulate
                #back
                #rt::Activation::backward_columns(
                    &#pact, #prows, &__ws.#pf.z, &__ws.#pf.a, &mut __ws.#pf.delta,
                );
            }
        })
        .collect();
    let scratch_field = if has_conv {
        quote!(__scratch: #rt::Scratch<#t>,)
    } else {
        quote!()
    };
    let last_rows = {
        let o = last.map_or_else(|| n_in.clone(), |l| l.output.arg());
        quote!(#rt::rows::<#o>())
    };
    let doc_workspace = format!(
        "The buffers of [`{name_text}`]'s batch passes, kept between calls by [`{name_text}::accumulate_batch_gradients_with`] and by `staticnet::batch::BatchRunner`: each layer's pre-activations, activations and deltas for the largest batch seen."
    );

    let parameters = if types.is_empty() {
        quote!(0)
    } else {
        quote!(#(<#types>::PARAMETERS)+*)
    };

    let doc_struct_gradients = format!(
        "Gradients of [`{name_text}`]: one tensor for each of its parameter tensors, of the same shape."
    );
    let doc_trace = format!(
        "What [`{name_text}::forward_trace`] records for one sample: the input, then each layer's pre-activation `z` and activation `a`."
    );
    let doc_batch_trace = format!(
        "What [`{name_text}::forward_batch_trace`] records for a batch: the input, then each layer's pre-activations and activations, one sample per column."
    );
    let input_doc = "The input of the forward pass.";

    // names and PyTorch-order shapes of the tensors, in visiting order
    let tensor_infos: Vec<TokenStream> = params
        .iter()
        .map(|l| {
            let layer = l.name.as_str();
            let (weight, bias) = match &l.op {
                Op::Conv(g) => {
                    let Geom {
                        cin, cout, kh, kw, ..
                    } = *g;
                    (quote!(&[#cout, #cin, #kh, #kw]), quote!(&[#cout]))
                }
                _ => {
                    let (i, o) = (l.input.value(), l.output.value());
                    (quote!(&[#o, #i]), quote!(&[#o]))
                }
            };
            quote! {
                #rt::TensorInfo {
                    name: #rt::ParamName { layer: #layer, tensor: "weight" },
                    shape: #weight,
                },
                #rt::TensorInfo {
                    name: #rt::ParamName { layer: #layer, tensor: "bias" },
                    shape: #bias,
                },
            }
        })
        .collect();

    // the network and its gradients hold the same tensors under the same names
    let parameters_impl = |ty: &syn::Ident| {
        quote! {
            impl #rt::Parameters for #ty {
                type Scalar = #t;
                const PARAMETER_COUNT: usize = #ident::PARAMETERS;
                const TENSORS: &'static [#rt::TensorInfo] = &[#(#tensor_infos)*];
                const ARCHITECTURE: #rt::Summary = #ident::SUMMARY;

                fn zeroed() -> Self {
                    Self { #(#fields: #zeros),* }
                }

                fn for_each_parameter<F: FnMut(#rt::ParamName, &[#t])>(&self, mut f: F) {
                    #(self.#fields.for_each_parameter(#names, &mut f);)*
                }

                fn for_each_parameter_mut<F: FnMut(#rt::ParamName, &mut [#t])>(&mut self, mut f: F) {
                    #(self.#fields.for_each_parameter_mut(#names, &mut f);)*
                }
            }
        }
    };
    let parameters_for_net = parameters_impl(ident);
    let parameters_for_grads = parameters_impl(&grads);

    let body = if layers.is_empty() {
        quote!()
    } else {
        let first_back = first_back.expect("at least one layer");
        let first_back_batch = first_back_batch.expect("at least one layer");
        let first_out = first_out.expect("at least one layer");
        quote! {
            // the wiring grows with the declaration, one statement per layer
            #[allow(dead_code, clippy::too_many_lines)]
            impl #ident {
                #(#geometries)*

                /// The number of inputs.
                pub const INPUT: usize = #n_in_value;
                /// The number of outputs.
                pub const OUTPUT: usize = #n_out_value;
                /// The number of parameters (weights and biases) of all layers.
                pub const PARAMETERS: usize = #parameters;

                /// A table of the layers with their output shapes and parameter
                /// counts, as [`summary`](Self::summary) returns it.
                pub const SUMMARY: #rt::Summary = #rt::Summary {
                    name: #name_text,
                    scalar: #scalar_text,
                    scalar_bytes: #rt::size_of::<#t>(),
                    input: &[#(#input_dims),*],
                    layers: &[#(#summary_rows),*],
                };

                /// A table of the layers with their output shapes and parameter
                /// counts; print it with `{}`.
                #[must_use]
                pub const fn summary() -> #rt::Summary {
                    Self::SUMMARY
                }

                /// A network whose parameters are all zero.
                #[must_use]
                pub fn zeros() -> Self {
                    Self { #(#fields: #zeros),* }
                }

                /// A network initialized from `rng`, layers in declaration order:
                /// each layer's `init = ...` and `bias_init = ...`, where omitted
                /// He uniform weights before ReLU-family activations, Glorot
                /// uniform otherwise, and zero biases.
                #[must_use]
                pub fn from_rng<R: #rt::Rng + ?::core::marker::Sized>(rng: &mut R) -> Self {
                    let mut __net = Self::zeros();
                    #(#initializers)*
                    __net
                }

                /// A network initialized as by [`from_rng`](Self::from_rng) from a
                /// generator seeded with `seed`: the same seed gives the same
                /// weights, bit for bit, on every run.
                #[must_use]
                pub fn from_seed(seed: u64) -> Self {
                    Self::from_rng(&mut #rt::seeded_rng(seed))
                }

                /// The output for one sample.
                #[must_use]
                pub fn #forward_fn(&self, x: &#rt::SVector<#t, #n_in>) -> #rt::SVector<#t, #n_out> {
                    #forward
                }

                ::staticnet::__if_alloc! {
                    /// The outputs for a batch, one sample per column.
                    #[must_use]
                    pub fn forward_batch(
                        &self,
                        x: &#rt::OMatrix<#t, #rt::Const<#n_in>, #rt::Dyn>,
                    ) -> #rt::OMatrix<#t, #rt::Const<#n_out>, #rt::Dyn> {
                        #forward_batch
                    }
                }

                /// The forward pass for one sample, recording every layer's
                /// pre-activation and activation for [`backward`](Self::backward).
                #[must_use]
                pub fn forward_trace(&self, x: &#rt::SVector<#t, #n_in>) -> #trace {
                    #(#trace_steps)*
                    #trace { input: *x, #(#trace_fields: #trace_locals),* }
                }

                ::staticnet::__if_alloc! {
                    /// The forward pass for a batch, recording every layer's
                    /// pre-activations and activations for
                    /// [`backward_batch`](Self::backward_batch).
                    #[must_use]
                    pub fn forward_batch_trace(
                        &self,
                        x: &#rt::OMatrix<#t, #rt::Const<#n_in>, #rt::Dyn>,
                    ) -> #batch_trace {
                        #(#batch_trace_steps)*
                        #batch_trace { input: x.clone(), #(#trace_fields: #trace_locals),* }
                    }
                }

                /// Backpropagation for one sample: given the trace of the forward
                /// pass and the output delta `δ = ∂L/∂z` of the last layer, adds
                /// every parameter's gradient to `gradients` and returns the
                /// gradient with respect to the input.
                pub fn backward(
                    &self,
                    trace: &#trace,
                    delta: &#rt::SVector<#t, #n_out>,
                    gradients: &mut #grads,
                ) -> #rt::SVector<#t, #n_in> {
                    let __delta = self.__backward(trace, delta, gradients);
                    #first_back
                }

                fn __backward(
                    &self,
                    trace: &#trace,
                    delta: &#rt::SVector<#t, #n_out>,
                    gradients: &mut #grads,
                ) -> #rt::SVector<#t, #first_out> {
                    let __delta = *delta;
                    #backward_single
                    __delta
                }

                ::staticnet::__if_alloc! {
                    /// Backpropagation for a batch: given the trace of the forward pass
                    /// and the output deltas of the last layer (one sample per column),
                    /// adds the parameter gradients summed over the batch to
                    /// `gradients` and returns the gradients with respect to the
                    /// inputs. Pass the deltas of the mean loss (as
                    /// [`Loss::delta_batch`](::staticnet::loss::Loss::delta_batch)
                    /// gives them) to accumulate mean gradients.
                    ///
                    /// # Panics
                    ///
                    /// If `delta` has a different number of columns than the batch.
                    pub fn backward_batch(
                        &self,
                        trace: &#batch_trace,
                        delta: &#rt::OMatrix<#t, #rt::Const<#n_out>, #rt::Dyn>,
                        gradients: &mut #grads,
                    ) -> #rt::OMatrix<#t, #rt::Const<#n_in>, #rt::Dyn> {
                        let __delta = self.__backward_batch(trace, delta, gradients);
                        #first_back_batch
                    }

                    fn __backward_batch(
                        &self,
                        trace: &#batch_trace,
                        delta: &#rt::OMatrix<#t, #rt::Const<#n_out>, #rt::Dyn>,
                        gradients: &mut #grads,
                    ) -> #rt::OMatrix<#t, #rt::Const<#first_out>, #rt::Dyn> {
                        let __delta = delta.clone();
                        #backward_batch
                        __delta
                    }
                }

                /// Gradients of all zeros.
                #[must_use]
                pub fn zero_gradients() -> #grads {
                    #grads::default()
                }

                /// The loss of one sample and the gradients of every parameter.
                #[must_use]
                pub fn #gradients_fn<L: #rt::Loss>(
                    &self,
                    x: &#rt::SVector<#t, #n_in>,
                    y: &#rt::SVector<#t, #n_out>,
                    loss: L,
                ) -> (#t, #grads) {
                    let mut __gradients = Self::zero_gradients();
                    let __loss = self.accumulate_gradients(x, y, loss, &mut __gradients);
                    (__loss, __gradients)
                }

                /// Adds the gradients of the loss of one sample to `gradients`
                /// and returns the loss. The output delta is fused to `ŷ − y`
                /// for the canonical pairs (sigmoid with binary cross-entropy,
                /// softmax with cross-entropy, identity with squared error).
                pub fn accumulate_gradients<L: #rt::Loss>(
                    &self,
                    x: &#rt::SVector<#t, #n_in>,
                    y: &#rt::SVector<#t, #n_out>,
                    loss: L,
                    gradients: &mut #grads,
                ) -> #t {
                    let __trace = self.forward_trace(x);
                    let (__loss, __delta) =
                        loss.delta(&#last_act, &__trace.#last_field.z, &__trace.#last_field.a, y);
                    self.__backward(&__trace, &__delta, gradients);
                    __loss
                }

                ::staticnet::__if_alloc! {
                    /// The mean loss of a batch and the mean gradients of every
                    /// parameter.
                    ///
                    /// # Panics
                    ///
                    /// If `x` and `y` have different numbers of columns.
                    #[must_use]
                    pub fn batch_gradients<L: #rt::Loss>(
                        &self,
                        x: &#rt::OMatrix<#t, #rt::Const<#n_in>, #rt::Dyn>,
                        y: &#rt::OMatrix<#t, #rt::Const<#n_out>, #rt::Dyn>,
                        loss: L,
                    ) -> (#t, #grads) {
                        let mut __gradients = Self::zero_gradients();
                        let __loss = self.accumulate_batch_gradients(x, y, loss, &mut __gradients);
                        (__loss, __gradients)
                    }

                    /// Adds the mean gradients of a batch's loss to `gradients` and
                    /// returns the mean loss.
                    ///
                    /// # Panics
                    ///
                    /// If `x` and `y` have different numbers of columns.
                    pub fn accumulate_batch_gradients<L: #rt::Loss>(
                        &self,
                        x: &#rt::OMatrix<#t, #rt::Const<#n_in>, #rt::Dyn>,
                        y: &#rt::OMatrix<#t, #rt::Const<#n_out>, #rt::Dyn>,
                        loss: L,
                        gradients: &mut #grads,
                    ) -> #t {
                        self.accumulate_batch_gradients_with(
                            x,
                            y,
                            loss,
                            gradients,
                            &mut #workspace::default(),
                        )
                    }

                    /// [`accumulate_batch_gradients`](Self::accumulate_batch_gradients)
                    /// with buffers kept in `workspace`: after the first call with a
                    /// batch this large, nothing is allocated.
                    ///
                    /// # Panics
                    ///
                    /// If `x` and `y` have different numbers of columns.
                    pub fn accumulate_batch_gradients_with<L: #rt::Loss>(
                        &self,
                        x: &#rt::OMatrix<#t, #rt::Const<#n_in>, #rt::Dyn>,
                        y: &#rt::OMatrix<#t, #rt::Const<#n_out>, #rt::Dyn>,
                        loss: L,
                        gradients: &mut #grads,
                        workspace: &mut #workspace,
                    ) -> #t {
                        let __n = x.ncols();
                        ::core::assert_eq!(
                            __n,
                            y.ncols(),
                            "the batch has {} samples but {} targets",
                            __n,
                            y.ncols()
                        );
                        if __n == 0 {
                            return #rt::zero::<#t>();
                        }
                        let __scale = #rt::mean_scale::<#t>(__n);
                        #rt::BatchNetwork::accumulate_columns(
                            self,
                            x.as_slice(),
                            y.as_slice(),
                            loss,
                            __scale,
                            gradients,
                            workspace,
                        )
                    }
                }
            }

            #parameters_for_net
            #parameters_for_grads

            impl #rt::Trainable for #ident {
                type Gradients = #grads;

                fn zero_gradients(&self) -> #grads {
                    #grads::default()
                }

                fn for_each_parameter_and_gradient<F>(&mut self, gradients: &#grads, mut f: F)
                where
                    F: FnMut(#rt::ParamName, &mut [#t], &[#t]),
                {
                    #(self.#fields.for_each_parameter_and_gradient(&gradients.#fields, #names, &mut f);)*
                }
            }

            ::staticnet::__if_alloc! {
                // the wiring grows with the declaration, one statement per layer
                #[allow(clippy::too_many_lines)]
                impl #rt::BatchNetwork for #ident {
                    const INPUT: usize = #n_in_value;
                    const OUTPUT: usize = #n_out_value;
                    type Workspace = #workspace;

                    fn accumulate_columns<L: #rt::Loss>(
                        &self,
                        x: &[#t],
                        y: &[#t],
                        loss: L,
                        scale: #t,
                        gradients: &mut #grads,
                        workspace: &mut #workspace,
                    ) -> #t {
                        let __n = x.len() / #ident::INPUT;
                        ::core::assert!(
                            x.len() == #ident::INPUT * __n && y.len() == #ident::OUTPUT * __n,
                            "a batch of {} inputs and {} targets is not {} × batch and {} × batch",
                            x.len(),
                            y.len(),
                            #ident::INPUT,
                            #ident::OUTPUT
                        );
                        let __ws = workspace;
                        #(#ws_forward)*
                        let __loss = #rt::Loss::delta_columns(
                            &loss,
                            &#last_act,
                            #last_rows,
                            &__ws.#last_field.z,
                            &__ws.#last_field.a,
                            y,
                            scale,
                            &mut __ws.#last_field.delta,
                        );
                        #(#ws_backward)*
                        __loss
                    }
                }
            }

            impl #rt::Network<#n_in, #n_out> for #ident {
                fn forward(&self, x: &#rt::SVector<#t, #n_in>) -> #rt::SVector<#t, #n_out> {
                    #ident::forward(self, x)
                }

                ::staticnet::__if_alloc! {
                    fn forward_batch(
                        &self,
                        x: &#rt::OMatrix<#t, #rt::Const<#n_in>, #rt::Dyn>,
                    ) -> #rt::OMatrix<#t, #rt::Const<#n_out>, #rt::Dyn> {
                        #ident::forward_batch(self, x)
                    }
                }

                fn accumulate_gradients<L: #rt::Loss>(
                    &self,
                    x: &#rt::SVector<#t, #n_in>,
                    y: &#rt::SVector<#t, #n_out>,
                    loss: L,
                    gradients: &mut #grads,
                ) -> #t {
                    #ident::accumulate_gradients(self, x, y, loss, gradients)
                }

                ::staticnet::__if_alloc! {
                    fn accumulate_batch_gradients<L: #rt::Loss>(
                        &self,
                        x: &#rt::OMatrix<#t, #rt::Const<#n_in>, #rt::Dyn>,
                        y: &#rt::OMatrix<#t, #rt::Const<#n_out>, #rt::Dyn>,
                        loss: L,
                        gradients: &mut #grads,
                    ) -> #t {
                        #ident::accumulate_batch_gradients(self, x, y, loss, gradients)
                    }
                }
            }
        }
    };

    quote! {
        #(#decl_attrs)*
        #vis struct #ident {
            #(
                #[doc = #field_docs]
                pub #fields: #types,
            )*
        }

        #[doc = #doc_struct_gradients]
        #[derive(Clone, Debug, PartialEq, Default)]
        #[allow(dead_code)]
        #vis struct #grads {
            #(
                #[doc = #field_docs]
                pub #fields: #types,
            )*
        }

        #[doc = #doc_trace]
        #[derive(Clone, Debug, PartialEq)]
        #[allow(dead_code)]
        #vis struct #trace {
            #[doc = #input_doc]
            pub input: #rt::SVector<#t, #n_in>,
            #(
                #[doc = #trace_docs]
                pub #trace_fields: #rt::LayerTrace<#t, #outs>,
            )*
        }

        ::staticnet::__if_alloc! {
            #[doc = #doc_batch_trace]
            #[derive(Clone, Debug, PartialEq)]
            #[allow(dead_code)]
            #vis struct #batch_trace {
                #[doc = #input_doc]
                pub input: #rt::OMatrix<#t, #rt::Const<#n_in>, #rt::Dyn>,
                #(
                    #[doc = #trace_docs]
                    pub #trace_fields: #rt::BatchLayerTrace<#t, #outs>,
                )*
            }

            #[doc = #doc_workspace]
            #[derive(Clone, Debug, Default)]
            #[allow(dead_code)]
            #vis struct #workspace {
                #(#trace_fields: #rt::LayerBuffers<#t>,)*
                #scratch_field
            }
        }

        #body

        #(#assertions)*
        #(#heap_checks)*
    }
}

/// `f_n(... f_1(x))`, each step built by `step(layer, input)`.
fn chain(
    layers: &[&CheckedLayer],
    x: TokenStream,
    step: impl Fn(&CheckedLayer, TokenStream) -> TokenStream,
) -> TokenStream {
    let mut body = TokenStream::new();
    let mut current = x;
    for (i, l) in layers.iter().enumerate() {
        let value = step(l, current);
        if i + 1 == layers.len() {
            body.extend(value);
            break;
        }
        body.extend(quote!(let __a = #value;));
        current = quote!(&__a);
    }
    body
}

/// The storage for a layer of `scalars` parameters: heap above the threshold.
fn storage(scalars: Option<usize>, symbolic: TokenStream) -> TokenStream {
    match scalars {
        Some(n) if n > HEAP_THRESHOLD => quote!(::staticnet::__private::Heap),
        Some(_) => quote!(::staticnet::__private::Inline),
        None => quote! {
            <::staticnet::__private::Select<
                { #symbolic > ::staticnet::layers::HEAP_THRESHOLD }
            > as ::staticnet::__private::Choose>::Storage
        },
    }
}

/// For a layer that [`storage`] may put on the heap: an assertion, at the
/// layer's size, that fails without the runtime's `alloc` feature (where
/// `__private::Heap` is `Inline`, so that this is the only error).
fn heap_check(l: &CheckedLayer) -> Option<TokenStream> {
    let size = match (&l.op, &l.input, &l.output) {
        (Op::Conv(g), ..) => Some(g.cout * g.kernel_len() + g.cout),
        (Op::Dense, Dim::Known(i), Dim::Known(o)) => Some(i * o + o),
        _ => None,
    };
    let name = &l.name;
    let (size, count) = match size {
        Some(n) if n <= HEAP_THRESHOLD => return None,
        Some(n) => (quote!(#n), format!("{n} parameters, more")),
        None => {
            let (i, o) = (l.input.value(), l.output.value());
            (quote!(#i * #o + #o), "more parameters".to_string())
        }
    };
    let message = format!(
        "layer `{name}` has {count} than a layer keeps inline ({HEAP_THRESHOLD}); keeping them on the heap needs the `alloc` feature of staticnet"
    );
    Some(quote_spanned! {l.output_span=>
        const _: () = ::core::assert!(
            ::staticnet::__private::HEAP || #size <= ::staticnet::layers::HEAP_THRESHOLD,
            #message
        );
    })
}

/// A layer's type; inline whatever its size where `all_inline`.
fn layer_type(l: &CheckedLayer, t: &syn::Type, all_inline: bool) -> TokenStream {
    let storage = |scalars, symbolic| {
        if all_inline {
            quote!(::staticnet::__private::Inline)
        } else {
            storage(scalars, symbolic)
        }
    };
    match &l.op {
        Op::Conv(g) => {
            let (cout, klen) = (g.cout, g.kernel_len());
            let storage = storage(Some(cout * klen + cout), quote!(0));
            quote!(::staticnet::__private::Conv2d<#t, #cout, #klen, #storage>)
        }
        _ => {
            let (n_in, n_out) = (l.input.arg(), l.output.arg());
            let (v_in, v_out) = (l.input.value(), l.output.value());
            let known = match (&l.input, &l.output) {
                (Dim::Known(i), Dim::Known(o)) => Some(i * o + o),
                _ => None,
            };
            let storage = storage(known, quote!(#v_in * #v_out + #v_out));
            quote!(::staticnet::__private::Dense<#t, #n_in, #n_out, #storage>)
        }
    }
}

fn layer_doc(l: &CheckedLayer) -> String {
    let shape = l.output_shape.text();
    match &l.op {
        Op::Dense => format!(
            "Layer `{}`: dense `{}` → `{}`, then `{}`.",
            l.name,
            l.input.text(),
            l.output.text(),
            l.activation.text
        ),
        Op::Conv(g) => format!(
            "Layer `{}`: {} with {} filters of {}×{}×{}, stride ({}, {}), padding ({}, {}), output `{shape}`, then `{}`.",
            l.name, l.kind, g.cout, g.cin, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, l.activation.text
        ),
        Op::Pool { geom: g, .. } => format!(
            "Layer `{}`: {} over {}×{} windows, stride ({}, {}), output `{shape}`, then `{}`.",
            l.name, l.kind, g.kh, g.kw, g.sh, g.sw, l.activation.text
        ),
        Op::Flatten => format!("Layer `{}`: flatten to `{shape}`.", l.name),
    }
}
